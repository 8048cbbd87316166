export function AuditView(_props: { id: string }) {
  return <h1>audit</h1>;
}

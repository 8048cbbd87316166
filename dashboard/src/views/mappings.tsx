export function MappingsView(_props: { id: string }) {
  return <h1>mappings</h1>;
}

export function JobView(_props: { id: string }) {
  return <h1>job</h1>;
}

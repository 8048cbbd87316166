export function JobsView(_props: { id: string }) {
  return <h1>jobs</h1>;
}

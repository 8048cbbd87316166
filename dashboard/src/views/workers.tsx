export function WorkersView(_props: { id: string }) {
  return <h1>workers</h1>;
}

export function ExperimentsView(_props: { id: string }) {
  return <h1>experiments</h1>;
}

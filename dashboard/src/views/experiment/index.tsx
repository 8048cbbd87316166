export function ExperimentView(_props: { id: string }) {
  return <h1>experiment</h1>;
}

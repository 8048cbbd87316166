/**
 * Reading a set of jobs by id in one request: one aliased `job(id:)` field per id, at most
 * `JOBS_PER_REQUEST` of them (the server refuses documents over 100 aliases).
 */
export const JOBS_PER_REQUEST = 50;

export function jobsByIdDocument(count: number, fields: string): string {
  if (count < 1 || count > JOBS_PER_REQUEST) throw new RangeError(`between 1 and ${JOBS_PER_REQUEST} jobs per request`);
  const indexes = Array.from({ length: count }, (_, i) => i);
  const variables = indexes.map((i) => `$id${i}: ID!`).join(', ');
  const selections = indexes.map((i) => `j${i}: job(id: $id${i}) { ...JobFields }`).join('\n  ');
  return `query JobsById(${variables}) {\n  ${selections}\n}\n${fields}`;
}

/** The ids in chunks a request each, without repeats. */
export function chunkIds(ids: Iterable<string>): string[][] {
  const unique = [...new Set(ids)];
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += JOBS_PER_REQUEST) chunks.push(unique.slice(i, i + JOBS_PER_REQUEST));
  return chunks;
}

export function jobsByIdVariables(ids: readonly string[]): Record<string, string> {
  return Object.fromEntries(ids.map((id, i) => [`id${i}`, id]));
}

/**
 * Scrapes a server's /metrics and reads the Prometheus text format (what
 * prom-client writes): `# TYPE` lines and `name{label="value",...} number`
 * samples. (parse-prometheus-text-format was tried: it drops the labels,
 * counts and sums of histograms.)
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  /** Each metric family's type, by name (`counter`, `gauge`, `histogram`). */
  types: Map<string, string>;
  /** The samples named `name` whose labels include `labels`. */
  samples(name: string, labels?: Record<string, string>): Sample[];
  /** Their values summed (0 when none matches: a counter not yet incremented). */
  value(name: string, labels?: Record<string, string>): number;
  /** A histogram's observations, summed over the series that match. */
  count(name: string, labels?: Record<string, string>): number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key!] = JSON.parse(`"${value}"`) as string;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return { types, samples };
}

export async function scrape(graphqlUrl: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await fetch(new URL('/metrics', graphqlUrl), { headers });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}: ${await response.text()}`);
  expectPrometheusContentType(response.headers.get('content-type'));
  const { types, samples: all } = parseExposition(await response.text());
  const samples = (name: string, labels: Record<string, string> = {}) =>
    all.filter(
      (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    );
  const sum = (list: Sample[]) => list.reduce((total, sample) => total + sample.value, 0);
  return {
    types,
    samples,
    value: (name, labels) => sum(samples(name, labels)),
    count: (name, labels) => sum(samples(`${name}_count`, labels)),
  };
}

function expectPrometheusContentType(type: string | null): void {
  if (!type?.startsWith('text/plain; version=0.0.4')) throw new Error(`not the Prometheus text format: ${type}`);
}

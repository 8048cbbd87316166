/**
 * `npx tsx .ci/check-compose.ts`: docker-compose.yml checked without Docker.
 *
 * 1. Against the Compose Specification's JSON schema, vendored as .ci/compose-spec.json (CI runs
 *    offline): schema/compose-spec.json of github.com/compose-spec/compose-spec at commit
 *    a08f8d51631b7127ddac3d2c65537db429d0f1d0 (the last to change it when vendored), validated with
 *    ajv (draft-07, as the schema declares). `docker compose config` would do this and more, but no
 *    Docker runs here; the schema is the part of it that is a published specification.
 * 2. Against what Trialog's deployment needs: every dependency waits for a health check that
 *    exists, Trialog's health check is the Dockerfile's, its EventStoreDB address names the
 *    EventStoreDB service, and its database (and so admin.key, which the README tells how to read)
 *    is on a volume.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { readRuntimeImage } from './dockerfile.js';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: (string | { target?: string })[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition: string }>;
}

function main(): void {
  const compose = parse(readFileSync(`${root}docker-compose.yml`, 'utf8')) as { services: Record<string, Service> };
  const problems = [...schemaProblems(compose), ...deploymentProblems(compose.services)];
  if (problems.length > 0) {
    for (const problem of problems) console.error(`compose: ${problem}`);
    console.error(`compose: FAILED: docker-compose.yml has ${problems.length} problem(s)`);
    process.exit(1);
  }
  console.log(
    `compose: docker-compose.yml is valid Compose (${Object.keys(compose.services).join(', ')}) and fits the Dockerfile`,
  );
}

function schemaProblems(compose: unknown): string[] {
  const schema = JSON.parse(readFileSync(`${root}.ci/compose-spec.json`, 'utf8')) as object;
  // strictTypes off: it lints how the schema is written (keywords without a "type" beside them), not the file.
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strictTypes: false });
  // The schema names draft-07's meta-schema by its https address; ajv knows it by the http one.
  const draft07 = createRequire(import.meta.url)('ajv/dist/refs/json-schema-draft-07.json') as object;
  ajv.addMetaSchema(draft07, 'https://json-schema.org/draft-07/schema');
  const validate = ajv.compile(schema);
  if (validate(compose)) return [];
  return (validate.errors ?? []).map(
    (error) => `schema: ${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`,
  );
}

function deploymentProblems(services: Record<string, Service>): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(services)) {
    const dependencies = service.depends_on ?? {};
    if (Array.isArray(dependencies)) {
      if (dependencies.length > 0)
        problems.push(`${name}: depends_on must give each service a condition (service_healthy)`);
      continue;
    }
    for (const [dependency, { condition }] of Object.entries(dependencies)) {
      if (condition !== 'service_healthy')
        problems.push(`${name}: depends on ${dependency} with ${condition}, not service_healthy`);
      if (!services[dependency]?.healthcheck?.test)
        problems.push(`${name}: depends on ${dependency}, which has no healthcheck`);
    }
  }

  const trialog = Object.entries(services).find(([, service]) => service.build !== undefined);
  const eventstore = Object.entries(services).find(([, service]) =>
    service.image?.startsWith('eventstore/eventstore:'),
  );
  if (!trialog) return [...problems, 'no service builds the Trialog image (build: .)'];
  if (!eventstore) return [...problems, 'no EventStoreDB service (image eventstore/eventstore:…)'];
  const [trialogName, trialogService] = trialog;
  const [eventstoreName, eventstoreService] = eventstore;
  if (eventstoreService.image !== 'eventstore/eventstore:24.10')
    problems.push(`${eventstoreName}: image ${eventstoreService.image}, not eventstore/eventstore:24.10`);
  if (trialogService.build !== '.')
    problems.push(`${trialogName}: build must be the repository root (.), where the Dockerfile is`);

  const image = readRuntimeImage(`${root}Dockerfile`);
  const healthcheck = JSON.stringify(trialogService.healthcheck?.test);
  if (healthcheck !== JSON.stringify(['CMD', ...image.healthcheck]))
    problems.push(`${trialogName}: healthcheck ${healthcheck} is not the Dockerfile's HEALTHCHECK`);

  const env = environment(trialogService);
  const url = env.EVENTSTORE_URL ? new URL(env.EVENTSTORE_URL) : undefined;
  if (url?.hostname !== eventstoreName)
    problems.push(`${trialogName}: EVENTSTORE_URL (${env.EVENTSTORE_URL}) must name the ${eventstoreName} service`);
  if (!depends(trialogService, eventstoreName)) problems.push(`${trialogName}: must depend on ${eventstoreName}`);

  const database = env.TRIALOG_DB ?? image.env.TRIALOG_DB ?? '';
  const mounted = (trialogService.volumes ?? []).map((volume) =>
    typeof volume === 'string' ? volume.split(':')[1] : volume.target,
  );
  if (!mounted.includes(posix.dirname(database)))
    problems.push(
      `${trialogName}: TRIALOG_DB (${database}) is not in a mounted volume: its data and admin.key would go with the container`,
    );
  return problems;
}

function environment(service: Service): Record<string, string> {
  const entries = Array.isArray(service.environment)
    ? service.environment.map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string])
    : Object.entries(service.environment ?? {}).map(([name, value]) => [name, String(value)] as [string, string]);
  return Object.fromEntries(entries);
}

function depends(service: Service, on: string): boolean {
  const dependencies = service.depends_on ?? [];
  return Array.isArray(dependencies) ? dependencies.includes(on) : on in dependencies;
}

main();

// `Experiment.config` (the settings as recorded at creation, in the one-of shape of the GraphQL input)
// turned into lines a person reads: "lr  log-uniform 1e-5 … 0.1". Pure: test/unit/dashboard/experiment-settings.test.ts.

type Json = unknown;
type JsonObject = Record<string, Json>;

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A number as short as it reads well: 0.00001 → 1e-5, 0.1 → 0.1, 128 → 128, integers whole. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  // Integers (seeds, counts) in full: 1056234871 is a seed to copy, not 1.056e9.
  if (Number.isSafeInteger(value)) return String(value);
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e6))
    return value
      .toExponential(3)
      .replace(/\.?0+e/, 'e')
      .replace('e+', 'e');
  return String(Number(value.toPrecision(6)));
}

function formatValue(value: Json): string {
  return typeof value === 'number' ? formatNumber(value) : typeof value === 'string' ? value : JSON.stringify(value);
}

/** One distribution of the search space, e.g. `log-uniform 1e-5 … 0.1` or `choice 32, 64, 128`. */
export function describeDistribution(distribution: Json): string {
  if (!isObject(distribution)) return formatValue(distribution);
  const [kind, raw] = Object.entries(distribution).find(([, v]) => v !== undefined && v !== null) ?? [];
  const spec = isObject(raw) ? raw : {};
  const n = (name: string) => formatValue(spec[name]);
  switch (kind) {
    case 'constant':
      return `constant ${formatValue(raw)}`;
    case 'uniform':
      return `uniform ${n('low')} … ${n('high')}${spec.step !== undefined && spec.step !== null ? ` step ${n('step')}` : ''}`;
    case 'logUniform':
      return `log-uniform ${n('low')} … ${n('high')}`;
    case 'intUniform':
      return `integers ${n('low')} … ${n('high')}${spec.step !== undefined && spec.step !== 1 ? ` step ${n('step')}` : ''}`;
    case 'intLogUniform':
      return `integers ${n('low')} … ${n('high')}, log scale`;
    case 'normal':
      return `normal mean ${n('mean')}, std ${n('std')}`;
    case 'logNormal':
      return `log-normal mean ${n('mean')}, std ${n('std')}`;
    case 'choice': {
      const values = Array.isArray(spec.values) ? spec.values : [];
      const weights = Array.isArray(spec.weights) ? spec.weights : null;
      const listed = values.map((v, i) =>
        weights ? `${formatValue(v)} (${formatValue(weights[i])})` : formatValue(v),
      );
      return `choice ${listed.join(', ')}`;
    }
    default:
      return JSON.stringify(distribution);
  }
}

export interface SettingLine {
  label: string;
  value: string;
}

export interface ReadableSettings {
  scheduler: string;
  /** One line per hyperparameter. */
  space: SettingLine[];
  /** The scheduler's own settings (seed, maxJobs, PBT's exploit and explore…). */
  schedulerLines: SettingLine[];
  earlyStopping: string | null;
  objective: string | null;
  limits: SettingLine[];
}

function schedulerOf(config: JsonObject): [string, JsonObject] {
  const scheduler = isObject(config.scheduler) ? config.scheduler : {};
  const [kind, spec] = Object.entries(scheduler).find(([, v]) => isObject(v)) ?? ['unknown', {}];
  return [kind, isObject(spec) ? spec : {}];
}

function spaceLines(kind: string, spec: JsonObject): SettingLine[] {
  if (kind === 'grid') {
    const space = Array.isArray(spec.space) ? spec.space.filter(isObject) : [];
    return space.map((p) => ({
      label: String(p.name),
      value: `grid ${(Array.isArray(p.values) ? p.values : []).map(formatValue).join(', ')}`,
    }));
  }
  const space = kind === 'pbt' ? spec.initial : spec.space;
  return (Array.isArray(space) ? space.filter(isObject) : []).map((p) => ({
    label: String(p.name),
    value: describeDistribution(p.distribution),
  }));
}

function exploitLine(exploit: Json): string {
  if (!isObject(exploit)) return formatValue(exploit);
  if (isObject(exploit.truncation))
    return `truncation: the bottom ${formatValue(exploit.truncation.fraction)} copy the top`;
  if (isObject(exploit.tournament)) return `tournament of ${formatValue(exploit.tournament.size)}`;
  return JSON.stringify(exploit);
}

function exploreLine(explore: JsonObject): string {
  const strategy = isObject(explore.strategy) ? explore.strategy : {};
  if (isObject(strategy.perturb)) {
    const factors = Array.isArray(strategy.perturb.factors) ? strategy.perturb.factors : [];
    return `perturb by ${factors.map(formatValue).join(' … ')}`;
  }
  if (isObject(strategy.resample)) {
    return `resample with probability ${formatValue(strategy.resample.probability)} from ${describeDistribution(strategy.resample.distribution)}`;
  }
  return JSON.stringify(strategy);
}

function schedulerLines(kind: string, spec: JsonObject): SettingLine[] {
  const lines: SettingLine[] = [];
  const add = (label: string, value: Json) => {
    if (value !== undefined && value !== null) lines.push({ label, value: formatValue(value) });
  };
  if (kind === 'random') {
    add('seed', spec.seed);
    add('max jobs', spec.maxJobs);
  } else if (kind === 'tpe') {
    add('seed', spec.seed);
    add('max jobs', spec.maxJobs);
    add('random startup trials', spec.startupTrials);
    add('candidates per proposal', spec.candidates);
    add('multivariate', spec.multivariate);
    add('constant liar', spec.constantLiar);
    // Settings written before versions existed follow 4.6.
    add('follows', spec.version ?? 'optuna-4.6');
  } else if (kind === 'manual') {
    add('max jobs', spec.maxJobs);
  } else if (kind === 'pbt') {
    add('population', spec.populationSize);
    add('max generations', spec.maxGenerations);
    add('seed', spec.seed);
    lines.push({ label: 'exploit', value: exploitLine(spec.exploit) });
    for (const explore of Array.isArray(spec.explore) ? spec.explore.filter(isObject) : []) {
      lines.push({ label: `explore ${String(explore.parameter)}`, value: exploreLine(explore) });
    }
  }
  return lines;
}

function earlyStoppingLine(earlyStopping: Json): string | null {
  if (!isObject(earlyStopping)) return null;
  if (isObject(earlyStopping.median)) {
    const m = earlyStopping.median;
    return `median rule: after ${formatValue(m.startupJobs)} trials, from step ${formatValue(m.warmupSteps)}, every ${formatValue(m.intervalSteps)} step(s), against at least ${formatValue(m.minJobs)} trial(s)`;
  }
  if (isObject(earlyStopping.successiveHalving)) {
    const s = earlyStopping.successiveHalving;
    const max = s.maxSteps === null || s.maxSteps === undefined ? '' : `, no rung past step ${formatValue(s.maxSteps)}`;
    const rate =
      typeof s.minEarlyStoppingRate === 'number' && s.minEarlyStoppingRate > 0
        ? `, min early-stopping rate ${formatValue(s.minEarlyStoppingRate)}`
        : '';
    return `successive halving: first rung at step ${formatValue(s.minSteps)}, reduction factor ${formatValue(s.reductionFactor)}${rate}${max}`;
  }
  if (isObject(earlyStopping.hyperband)) {
    const h = earlyStopping.hyperband;
    const max = h.maxSteps === null || h.maxSteps === undefined ? 'from the completed trials' : formatValue(h.maxSteps);
    return `Hyperband: steps ${formatValue(h.minSteps)} … ${max}, reduction factor ${formatValue(h.reductionFactor)}`;
  }
  return JSON.stringify(earlyStopping);
}

/**
 * `config` holds the scheduler and early stopping; the objective, stop threshold and concurrency limit are
 * the experiment's own fields: pass them merged in (`{ ...config, objective, stopThreshold, maxConcurrent }`).
 */
export function readableSettings(config: Json): ReadableSettings {
  const settings = isObject(config) ? config : {};
  const [kind, spec] = schedulerOf(settings);
  const objective = isObject(settings.objective)
    ? `${settings.objective.direction === 'MAXIMIZE' ? 'maximize' : 'minimize'} ${String(settings.objective.metric)}`
    : null;
  const limits: SettingLine[] = [];
  if (typeof settings.stopThreshold === 'number')
    limits.push({ label: 'stop threshold', value: formatNumber(settings.stopThreshold) });
  if (typeof settings.maxConcurrent === 'number')
    limits.push({ label: 'max concurrent', value: formatNumber(settings.maxConcurrent) });
  return {
    scheduler: kind,
    space: spaceLines(kind, spec),
    schedulerLines: schedulerLines(kind, spec),
    earlyStopping: earlyStoppingLine(settings.earlyStopping),
    objective,
    limits,
  };
}

/** The hyperparameters' names as the settings declare them (the parallel-coordinates axes), in declared order. */
export function declaredParameters(config: Json): string[] {
  const settings = isObject(config) ? config : {};
  const [kind, spec] = schedulerOf(settings);
  return spaceLines(kind, spec).map((line) => line.label);
}

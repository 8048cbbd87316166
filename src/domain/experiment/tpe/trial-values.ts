/**
 * What a TPE proposal reads of each trial: the value of each parameter it
 * models, kept apart from the job's state (the read model's trial_values),
 * so a proposal costs a few bytes per trial and parameter, whatever else the
 * jobs hold (hyperparameters and params of up to 64 KiB each).
 *
 * A number is kept as it is; any other value as JSON, up to
 * TPE_VALUE_JSON_LENGTH characters. A TPE space's choices are refused beyond
 * that length, so every value TPE can propose is kept; a longer one (in a
 * job added by hand) is not an observation, as a value outside its domain.
 */
import type { Json } from '../../job/events.js';

export const TPE_VALUE_JSON_LENGTH = 1024;

export interface StoredTrialValue {
  name: string;
  number: number | null;
  json: string | null;
}

/** The values of a trial's hyperparameters as the read model keeps them (too long ones left out). */
export function storedTrialValues(hyperparameters: Readonly<Record<string, Json>>): StoredTrialValue[] {
  return Object.entries(hyperparameters).flatMap(([name, value]): StoredTrialValue[] => {
    if (typeof value === 'number') return [{ name, number: value, json: null }];
    const json = JSON.stringify(value);
    return json.length > TPE_VALUE_JSON_LENGTH ? [] : [{ name, number: null, json }];
  });
}

/** A kept value, back as the hyperparameter it was. */
export function trialValueOf(stored: { number: number | null; json: string | null }): Json {
  return stored.json === null ? stored.number : (JSON.parse(stored.json) as Json);
}

/**
 * How a job's hyperparameters reach the training command as arguments:
 * `--lr 0.01 --layers 3` by default; `--hparam-prefix` and
 * `--hparam-delimiter` change the shape (`-lr=0.01`, `lr:0.01`, …).
 */

export interface HyperparameterArgsStyle {
  /** Put before each name. Default `--`. */
  prefix: string;
  /** Between name and value; a single space means two separate arguments. Default ' '. */
  delimiter: string;
}

/** The arguments for `hyperparameters`, in the order the job lists them. */
export function hyperparameterArgs(hyperparameters: Record<string, unknown>, style: HyperparameterArgsStyle): string[] {
  const args: string[] = [];
  for (const [name, value] of Object.entries(hyperparameters)) {
    const flag = `${style.prefix}${name}`;
    const text = argumentText(value);
    if (style.delimiter === ' ') args.push(flag, text);
    else args.push(`${flag}${style.delimiter}${text}`);
  }
  return args;
}

/** Strings as they are, numbers and booleans as JSON writes them, anything else as JSON. */
function argumentText(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? 'null';
}

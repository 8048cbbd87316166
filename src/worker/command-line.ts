/**
 * How a job's hyperparameters reach the training command as arguments:
 * `--lr=0.01 --layers=3` by default; `--hparam-prefix` and
 * `--hparam-delimiter` change the shape (`-lr=0.01`, `lr:0.01`, `--lr 0.01`).
 *
 * Hyperparameters are job data, written by whoever may create a job; the
 * command line is the operator's. So:
 * - a name must look like an option name (HYPERPARAMETER_NAME): an empty
 *   name would make a bare `--` (ending option parsing), a name with spaces
 *   or `=` or a leading dash something else again;
 * - a value is glued to its name (`--name=value`, one argument), so a value
 *   such as `--delete` stays a value; with separate arguments (a space as
 *   delimiter) a value that starts with a dash and is not a number is refused;
 * - an option the operator's command already sets is not passed again: the
 *   operator's `--epochs 3` stands whatever a job says, for parsers where
 *   the last occurrence wins (argparse) and where the first does alike.
 * The arguments go after the operator's command (whose first words are the
 * program and its script); every hyperparameter stays in TRIALOG_HPARAMS.
 */

export interface HyperparameterArgsStyle {
  /** Put before each name. Default `--`. */
  prefix: string;
  /** Between name and value; a single space means two separate arguments. Default '='. */
  delimiter: string;
}

/** A letter or underscore, then letters, digits, `_`, `.`, `-`; at most 128 characters. */
const HYPERPARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

/** A job whose hyperparameters cannot be passed as arguments: it fails (not retried; it would fail again). */
export class UnusableHyperparameters extends Error {}

export interface HyperparameterArgs {
  args: string[];
  /** Why a hyperparameter was left out of the arguments (it stays in TRIALOG_HPARAMS). */
  notPassed: string[];
}

/**
 * The arguments for `hyperparameters`, in the order the job lists them, to
 * follow `command` (the operator's). Throws UnusableHyperparameters.
 */
export function hyperparameterArgs(
  hyperparameters: Record<string, unknown>,
  style: HyperparameterArgsStyle,
  command: readonly string[],
): HyperparameterArgs {
  const result: HyperparameterArgs = { args: [], notPassed: [] };
  for (const [name, value] of Object.entries(hyperparameters)) {
    if (!HYPERPARAMETER_NAME.test(name)) {
      throw new UnusableHyperparameters(
        `hyperparameter name ${JSON.stringify(name)} cannot be passed as a command option: a name must be a letter or _ ` +
          `followed by letters, digits, _ . or - (at most 128); run the worker with --no-hparam-args to pass ` +
          `hyperparameters in TRIALOG_HPARAMS only`,
      );
    }
    const flag = `${style.prefix}${name}`;
    const text = argumentText(value);
    if (text.includes('\0'))
      throw new UnusableHyperparameters(
        `hyperparameter ${name}: a value holding a NUL character cannot be an argument`,
      );
    if (setsOption(command, flag, style.delimiter)) {
      result.notPassed.push(`hyperparameter ${name} not passed as an argument: the command line sets ${flag}`);
      continue;
    }
    if (style.delimiter !== ' ') {
      result.args.push(`${flag}${style.delimiter}${text}`);
      continue;
    }
    if (text.startsWith('-') && !Number.isFinite(Number(text))) {
      throw new UnusableHyperparameters(
        `hyperparameter ${name}: a value starting with "-" cannot be passed as a separate argument (it would be read as ` +
          `an option); use the --name=value form (--hparam-delimiter =, the default)`,
      );
    }
    result.args.push(flag, text);
  }
  return result;
}

/** True when the operator's command line holds `flag` already, alone or with its value glued on. */
function setsOption(command: readonly string[], flag: string, delimiter: string): boolean {
  return command.some(
    (arg) =>
      arg === flag ||
      arg.startsWith(`${flag}=`) ||
      (delimiter !== ' ' && delimiter !== '' && arg.startsWith(`${flag}${delimiter}`)),
  );
}

/** Strings as they are, numbers and booleans as JSON writes them, anything else as JSON. */
function argumentText(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? 'null';
}

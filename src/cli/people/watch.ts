/** `trialog watch <experiment>`: an experiment's progress, live, until it is done. */
import cliTruncate from 'cli-truncate';
import type { ExperimentSummary } from '../../client/client.js';
import type { ConnectionValues } from '../commands/connection-options.js';
import { EXIT } from '../exit-codes.js';
import { formatNumber } from '../table.js';
import { LIVE_RETRY, interruptible, liveLoop, type Verdict } from './live.js';
import { printJsonLine, resolveExperiment, say, shown, subject, withClient } from './shared.js';

/** How long the subscription may be quiet before a query checks the experiment (it may have missed the end). */
const QUIET_MS = 5000;

export async function watchCommand(whichText: string, values: ConnectionValues): Promise<number> {
  const which = subject(whichText, 'experiment id or name', 'trialog watch <experiment id|name>');
  const view = changesOnly(values.json ? jsonView() : process.stdout.isTTY ? redrawnLine() : linePerChange());
  return withClient(values, (client) =>
    interruptible(async (signal) => {
      const show = (experiment: ExperimentSummary): Verdict => {
        view.show(experiment);
        return isSettled(experiment) ? 'done' : 'go on';
      };
      const current = await resolveExperiment(client, which, 0, { signal });
      try {
        if (show(current) === 'done') return EXIT.OK;
        await liveLoop({
          signal,
          subscribe: (stop) => client.experimentUpdates(current.id, { signal: stop }),
          onItem: show,
          // Quiet and DONE: whatever is still counted as unfinished is not going to change soon.
          onQuiet: async (stop) => {
            const experiment = await resolveExperiment(client, current.id, 0, { signal: stop, retry: LIVE_RETRY });
            view.show(experiment);
            return experiment.status === 'DONE' ? 'done' : 'go on';
          },
          quietMs: QUIET_MS,
        });
        return EXIT.OK;
      } finally {
        view.end();
      }
    }),
  );
}

/**
 * Done, with its last counts shown. An experiment turns DONE first and has its
 * unfinished jobs cancelled just after: the updates for those cancellations
 * are part of the final picture.
 */
function isSettled({ status, jobCounts }: ExperimentSummary): boolean {
  return status === 'DONE' && jobCounts.queued === 0 && jobCounts.running === 0;
}

interface View {
  show(experiment: ExperimentSummary): void;
  end(): void;
}

/** Every job event updates the experiment (a log line, a metric); only changes to what is shown are worth a line. */
function changesOnly(view: View): View {
  let shown: string | undefined;
  return {
    show(experiment) {
      const key = JSON.stringify([experiment.status, experiment.jobCounts, experiment.bestJob]);
      if (key === shown) return;
      shown = key;
      view.show(experiment);
    },
    end: () => view.end(),
  };
}

function jsonView(): View {
  return {
    show: ({ id, name, status, jobCounts, bestJob }) =>
      printJsonLine({ at: new Date().toISOString(), id, name, status, jobCounts, bestJob }),
    end: () => {},
  };
}

function linePerChange(): View {
  return { show: (experiment) => say(stateLine(experiment)), end: () => {} };
}

function redrawnLine(): View {
  let drawn = false;
  return {
    show(experiment) {
      // A line longer than the terminal wraps, and \r would then redraw only its last part.
      // (A terminal that reports no width gets the whole line.)
      const width = process.stdout.columns || Number.POSITIVE_INFINITY;
      // The line is shown inert; only the redraw sequence before it is ours.
      // Cut by display width (string-width underneath), after being made inert: what is measured is what is shown.
      process.stdout.write(`\r\u001b[K${cliTruncate(shown(stateLine(experiment)), width - 1)}`);
      drawn = true;
    },
    end: () => {
      if (drawn) process.stdout.write('\n');
    },
  };
}

function stateLine({ status, jobCounts: c, bestJob }: ExperimentSummary): string {
  const time = new Date().toTimeString().slice(0, 8);
  const counts = `queued ${c.queued}  running ${c.running}  succeeded ${c.succeeded}  failed ${c.failed}  pruned ${c.pruned}  cancelled ${c.cancelled}`;
  const best =
    bestJob?.objectiveValue == null ? '' : `  best ${formatNumber(bestJob.objectiveValue)} (job ${bestJob.id})`;
  return `${time}  ${status.padEnd(7)}  ${counts}${best}`;
}

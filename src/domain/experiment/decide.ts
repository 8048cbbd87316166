/**
 * Experiment decisions: pure, like the job's. Creation checks nothing but the
 * stream's absence: the settings were validated when they were parsed, and the
 * experiment's id is derived from its name, so "no stream" is the name's
 * reservation.
 */
import { conflict, notFound } from '../errors.js';
import type { NewExperimentEvent } from './events.js';
import type { ExperimentSettings } from './settings.js';
import type { MaybeExperiment } from './state.js';

export type ExperimentCommand =
  | { type: 'CreateExperiment'; experimentId: string; settings: ExperimentSettings }
  | { type: 'PauseExperiment' }
  | { type: 'ResumeExperiment' }
  | { type: 'FinishExperiment'; reason: 'REQUESTED' | 'STOP_THRESHOLD' | 'EXHAUSTED'; jobId: string | null };

export function decideExperiment(state: MaybeExperiment, command: ExperimentCommand): NewExperimentEvent[] {
  if (command.type === 'CreateExperiment') {
    if (state) throw conflict(`an experiment named ${JSON.stringify(command.settings.name)} exists already`);
    return [{ type: 'ExperimentCreated', data: { experimentId: command.experimentId, settings: command.settings } }];
  }
  if (!state) throw notFound('experiment not found');
  switch (command.type) {
    case 'PauseExperiment':
      if (state.status !== 'RUNNING')
        throw conflict(`cannot pause an experiment that is ${state.status}`, { status: state.status });
      return [{ type: 'ExperimentPaused', data: {} }];
    case 'ResumeExperiment':
      if (state.status !== 'PAUSED')
        throw conflict(`cannot resume an experiment that is ${state.status}`, { status: state.status });
      return [{ type: 'ExperimentResumed', data: {} }];
    case 'FinishExperiment':
      if (state.status === 'DONE') throw conflict('the experiment is DONE already', { status: state.status });
      return [{ type: 'ExperimentFinished', data: { reason: command.reason, jobId: command.jobId } }];
  }
}

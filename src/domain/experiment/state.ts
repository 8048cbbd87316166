/** An experiment's state, folded from its events. */
import type { ExperimentEvent, ExperimentStatus } from './events.js';
import type { ExperimentSettings } from './settings.js';

export interface ExperimentState {
  id: string;
  status: ExperimentStatus;
  settings: ExperimentSettings;
  createdAt: string;
  finishedAt: string | null;
  finishReason: string | null;
}

export type MaybeExperiment = ExperimentState | undefined;

export function evolveExperiment(state: MaybeExperiment, event: ExperimentEvent): MaybeExperiment {
  if (event.type === 'ExperimentCreated') {
    return {
      id: event.data.experimentId,
      status: 'RUNNING',
      settings: event.data.settings,
      createdAt: event.timestamp,
      finishedAt: null,
      finishReason: null,
    };
  }
  if (!state) throw new TypeError(`${event.type} before ExperimentCreated`);
  switch (event.type) {
    case 'ExperimentPaused':
      return { ...state, status: 'PAUSED' };
    case 'ExperimentResumed':
      return { ...state, status: 'RUNNING' };
    case 'ExperimentFinished':
      return { ...state, status: 'DONE', finishedAt: event.timestamp, finishReason: event.data.reason };
  }
}

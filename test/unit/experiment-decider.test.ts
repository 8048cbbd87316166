/**
 * The experiment decider as specifications: given the experiment's past
 * events, when a command arrives, then these events are decided, or this error.
 */
import { describe, expect, it } from 'vitest';
import { experimentIdForName } from '../../src/app/experiment-commands.js';
import { decideExperiment, type ExperimentCommand } from '../../src/domain/experiment/decide.js';
import type { NewExperimentEvent } from '../../src/domain/experiment/events.js';
import { ExperimentSettings } from '../../src/domain/experiment/settings.js';
import { evolveExperiment, type MaybeExperiment } from '../../src/domain/experiment/state.js';
import { at, deciderSpec, stateAfter } from '../helpers/decider-spec.js';

const decider = { decide: decideExperiment, evolve: evolveExperiment, initialState: undefined as MaybeExperiment };
const { given } = deciderSpec(decider);

const settings = ExperimentSettings.parse({ name: 'lr sweep', scheduler: { manual: {} } });
const created: NewExperimentEvent = { type: 'ExperimentCreated', data: { experimentId: 'exp_1', settings } };
const paused: NewExperimentEvent = { type: 'ExperimentPaused', data: {} };
const resumed: NewExperimentEvent = { type: 'ExperimentResumed', data: {} };
const finished = (
  reason: 'REQUESTED' | 'STOP_THRESHOLD' | 'EXHAUSTED' = 'REQUESTED',
  jobId: string | null = null,
): NewExperimentEvent => ({ type: 'ExperimentFinished', data: { reason, jobId } });

const create: ExperimentCommand = { type: 'CreateExperiment', experimentId: 'exp_1', settings };
const pause: ExperimentCommand = { type: 'PauseExperiment' };
const resume: ExperimentCommand = { type: 'ResumeExperiment' };
const finish = (
  reason: 'REQUESTED' | 'STOP_THRESHOLD' | 'EXHAUSTED' = 'REQUESTED',
  jobId: string | null = null,
): ExperimentCommand => ({ type: 'FinishExperiment', reason, jobId });

describe('creating an experiment', () => {
  it('given no experiment, when created, then ExperimentCreated with its id and settings', () => {
    given([]).when(create).then([created]);
  });

  it('given an experiment of that name, when created again, then CONFLICT naming the name', () => {
    given([created])
      .when(create)
      .thenError('CONFLICT', /"lr sweep" exists already/);
  });

  for (const command of [pause, resume, finish()]) {
    it(`given no experiment, when ${command.type} arrives, then NOT_FOUND`, () => {
      given([]).when(command).thenError('NOT_FOUND');
    });
  }
});

describe("an experiment's id", () => {
  it('is derived from its name: the same name gives the same id, so its stream reserves the name', () => {
    expect(experimentIdForName('lr sweep')).toBe(experimentIdForName('lr sweep'));
    expect(experimentIdForName('lr sweep')).toMatch(/^exp_[0-9a-f]{32}$/);
  });

  it('differs between names', () => {
    expect(experimentIdForName('lr sweep')).not.toBe(experimentIdForName('lr sweep 2'));
  });
});

describe('pausing and resuming', () => {
  it('given a running experiment, when paused, then ExperimentPaused', () => {
    given([created]).when(pause).then([paused]);
  });

  it('given a paused experiment, when paused again, then CONFLICT naming PAUSED', () => {
    given([created, paused])
      .when(pause)
      .thenError('CONFLICT', /PAUSED/);
  });

  it('given a paused experiment, when resumed, then ExperimentResumed', () => {
    given([created, paused]).when(resume).then([resumed]);
  });

  it('given a resumed experiment, when paused, then ExperimentPaused again', () => {
    given([created, paused, resumed]).when(pause).then([paused]);
  });

  it('given a running experiment, when resumed, then CONFLICT naming RUNNING', () => {
    given([created])
      .when(resume)
      .thenError('CONFLICT', /RUNNING/);
  });

  for (const command of [pause, resume]) {
    it(`given a DONE experiment, when ${command.type} arrives, then CONFLICT naming DONE`, () => {
      given([created, finished()]).when(command).thenError('CONFLICT', /DONE/);
    });
  }
});

describe('finishing', () => {
  it('given a running experiment, when finished on request, then ExperimentFinished REQUESTED with no job', () => {
    given([created]).when(finish()).then([finished()]);
  });

  it('given a paused experiment, when finished, then ExperimentFinished: a pause does not hold a finish back', () => {
    given([created, paused]).when(finish()).then([finished()]);
  });

  it('given a running experiment, when a job reached the stop threshold, then ExperimentFinished STOP_THRESHOLD naming the job', () => {
    given([created])
      .when(finish('STOP_THRESHOLD', 'job_7'))
      .then([finished('STOP_THRESHOLD', 'job_7')]);
  });

  it('given a running experiment, when its search is exhausted, then ExperimentFinished EXHAUSTED', () => {
    given([created])
      .when(finish('EXHAUSTED'))
      .then([finished('EXHAUSTED')]);
  });

  it('given a DONE experiment, when finished again, then CONFLICT: it is DONE already', () => {
    given([created, finished()])
      .when(finish())
      .thenError('CONFLICT', /DONE already/);
  });
});

describe("the experiment's state, folded from its events", () => {
  it('given a created experiment, then it is RUNNING since its creation, with its settings, not finished', () => {
    expect(stateAfter(decider, [created])).toEqual({
      id: 'exp_1',
      status: 'RUNNING',
      settings,
      createdAt: at(0).toISOString(),
      finishedAt: null,
      finishReason: null,
    });
  });

  it('given a paused experiment, then it is PAUSED', () => {
    expect(stateAfter(decider, [created, paused])?.status).toBe('PAUSED');
  });

  it('given a finished experiment, then it is DONE, with when and why', () => {
    expect(stateAfter(decider, [created, paused, finished('STOP_THRESHOLD', 'job_7')])).toMatchObject({
      status: 'DONE',
      finishedAt: at(2).toISOString(),
      finishReason: 'STOP_THRESHOLD',
    });
  });

  it('given an event before ExperimentCreated, then the fold refuses it: the log is not one the decider wrote', () => {
    expect(() => stateAfter(decider, [paused])).toThrow(/ExperimentPaused before ExperimentCreated/);
  });
});

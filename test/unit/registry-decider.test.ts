/**
 * The algorithm registry's decider as specifications: given the registry's
 * past events, when an algorithm is registered or retired, then these events,
 * or this error.
 */
import { describe, expect, it } from 'vitest';
import type { NewRegistryEvent } from '../../src/domain/mapping/events.js';
import {
  decideRegistry,
  evolveRegistry,
  type Registry,
  type RegistryCommand,
} from '../../src/domain/mapping/registry.js';
import { deciderSpec, stateAfter } from '../helpers/decider-spec.js';

const decider = { decide: decideRegistry, evolve: evolveRegistry, initialState: undefined as Registry | undefined };
const { given } = deciderSpec(decider);

const registered = (
  algorithmId: string,
  algorithmVersion: number,
  previousVersion: number | null = null,
  interactionId = 'TextInput',
): NewRegistryEvent => ({
  type: 'AlgorithmRegistered',
  data: { interactionId, algorithmId, algorithmVersion, previousVersion },
});
const retired = (algorithmId: string, interactionId = 'TextInput'): NewRegistryEvent => ({
  type: 'AlgorithmRetired',
  data: { interactionId, algorithmId },
});
const register = (algorithmId: string, algorithmVersion: number, interactionId = 'TextInput'): RegistryCommand => ({
  type: 'RegisterAlgorithm',
  interactionId,
  algorithmId,
  algorithmVersion,
});
const retire = (algorithmId: string | null, interactionId = 'TextInput'): RegistryCommand => ({
  type: 'RetireAlgorithm',
  interactionId,
  algorithmId,
});

describe('registering an algorithm', () => {
  it('given an empty registry, when an algorithm is registered, then AlgorithmRegistered with no previous version', () => {
    given([])
      .when(register('Classifier', 1))
      .then([registered('Classifier', 1)]);
  });

  it('given version 1, when version 2 is registered, then AlgorithmRegistered naming the version it replaces', () => {
    given([registered('Classifier', 1)])
      .when(register('Classifier', 2))
      .then([registered('Classifier', 2, 1)]);
  });

  it('given version 2, when version 1 is registered, then CONFLICT: versions never go back', () => {
    given([registered('Classifier', 1), registered('Classifier', 2, 1)])
      .when(register('Classifier', 1))
      .thenError('CONFLICT', /Classifier is at version 2 for TextInput; version 1 would go back/);
  });

  it('given version 1, when version 1 is registered again, then nothing is written', () => {
    given([registered('Classifier', 1)])
      .when(register('Classifier', 1))
      .then([]);
  });

  it('given an algorithm registered for one interaction, when it is registered for another, then that is a first registration', () => {
    given([registered('Classifier', 3)])
      .when(register('Classifier', 1, 'ImageInput'))
      .then([registered('Classifier', 1, null, 'ImageInput')]);
  });

  it('given a retired algorithm, when it is registered again at a lower version, then it starts over with no previous version', () => {
    given([registered('Classifier', 3), retired('Classifier')])
      .when(register('Classifier', 1))
      .then([registered('Classifier', 1)]);
  });
});

describe('retiring algorithms', () => {
  it('given a registered algorithm, when it is retired, then AlgorithmRetired', () => {
    given([registered('Classifier', 1)])
      .when(retire('Classifier'))
      .then([retired('Classifier')]);
  });

  it("given several algorithms, when the interaction's are retired (no algorithm named), then one AlgorithmRetired each, by id", () => {
    given([registered('Zeta', 1), registered('Alpha', 2), registered('Other', 1, null, 'ImageInput')])
      .when(retire(null))
      .then([retired('Alpha'), retired('Zeta')]);
  });

  it('given an algorithm that is not registered, when it is retired, then NOT_FOUND naming it', () => {
    given([registered('Classifier', 1)])
      .when(retire('Ranker'))
      .thenError('NOT_FOUND', /no Ranker is registered for TextInput/);
  });

  it('given a retired algorithm, when it is retired again, then NOT_FOUND', () => {
    given([registered('Classifier', 1), retired('Classifier')])
      .when(retire('Classifier'))
      .thenError('NOT_FOUND');
  });

  it('given an interaction with no algorithm, when its algorithms are retired, then NOT_FOUND', () => {
    given([])
      .when(retire(null))
      .thenError('NOT_FOUND', /no algorithm is registered for TextInput/);
  });
});

describe("the registry's state, folded from its events", () => {
  it('given registrations and upgrades, then each interaction maps each algorithm to its latest version', () => {
    expect(
      stateAfter(decider, [
        registered('A', 1),
        registered('A', 2, 1),
        registered('B', 1),
        registered('A', 1, null, 'ImageInput'),
      ]),
    ).toEqual({ TextInput: { A: 2, B: 1 }, ImageInput: { A: 1 } });
  });

  it('given the last algorithm of an interaction retired, then the interaction is gone from the registry', () => {
    expect(stateAfter(decider, [registered('A', 1), registered('B', 1), retired('A'), retired('B')])).toEqual({});
  });
});

/**
 * The algorithm registry: which algorithms, at which version, train models
 * for each interaction type. One aggregate, one stream.
 */
import { conflict, notFound } from '../errors.js';
import type { NewRegistryEvent, RegistryEvent } from './events.js';

/** interactionId -> algorithmId -> version */
export type Registry = Record<string, Record<string, number>>;

export function evolveRegistry(state: Registry | undefined, event: RegistryEvent): Registry {
  const registry = { ...(state ?? {}) };
  const { interactionId, algorithmId } = event.data;
  if (event.type === 'AlgorithmRegistered') {
    registry[interactionId] = { ...registry[interactionId], [algorithmId]: event.data.algorithmVersion };
  } else {
    const { [algorithmId]: _retired, ...rest } = registry[interactionId] ?? {};
    if (Object.keys(rest).length === 0) delete registry[interactionId];
    else registry[interactionId] = rest;
  }
  return registry;
}

export type RegistryCommand =
  | { type: 'RegisterAlgorithm'; interactionId: string; algorithmId: string; algorithmVersion: number }
  | { type: 'RetireAlgorithm'; interactionId: string; algorithmId: string | null };

export function decideRegistry(state: Registry | undefined, command: RegistryCommand): NewRegistryEvent[] {
  const current = state?.[command.interactionId] ?? {};
  if (command.type === 'RegisterAlgorithm') {
    const version = current[command.algorithmId];
    if (version !== undefined && command.algorithmVersion < version) {
      throw conflict(
        `${command.algorithmId} is at version ${version} for ${command.interactionId}; version ${command.algorithmVersion} would go back`,
        { currentVersion: version },
      );
    }
    if (version === command.algorithmVersion) return []; // registered already: nothing changes
    return [
      {
        type: 'AlgorithmRegistered',
        data: {
          interactionId: command.interactionId,
          algorithmId: command.algorithmId,
          algorithmVersion: command.algorithmVersion,
          previousVersion: version ?? null,
        },
      },
    ];
  }
  const retiring = command.algorithmId === null ? Object.keys(current) : [command.algorithmId];
  if (retiring.length === 0 || retiring.some((id) => current[id] === undefined)) {
    throw notFound(`no ${command.algorithmId ?? 'algorithm'} is registered for ${command.interactionId}`);
  }
  return retiring.sort().map((algorithmId) => ({
    type: 'AlgorithmRetired',
    data: { interactionId: command.interactionId, algorithmId },
  }));
}

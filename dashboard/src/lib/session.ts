import { signal } from '@preact/signals';
import { request, GraphQLRequestError } from './graphql';

export type Role = 'ADMIN' | 'EDITOR' | 'VIEWER' | 'WORKER';

/** Who the page acts as (from the key in sessionStorage, or the open server's default). */
export const viewer = signal<{ name: string; role: Role } | null>(null);
/** Set when the server asks for a key (UNAUTHENTICATED): the header opens the key dialog. */
export const needsKey = signal(false);

export async function loadViewer(): Promise<void> {
  try {
    const data = await request<{ viewer: { name: string; role: Role } }>('query Viewer { viewer { name role } }');
    viewer.value = data.viewer;
    needsKey.value = false;
  } catch (error) {
    viewer.value = null;
    if (error instanceof GraphQLRequestError && error.code === 'UNAUTHENTICATED') needsKey.value = true;
  }
}

/** Actions a role may take, as the server enforces them (the server refuses the rest anyway). */
export function may(action: 'editJobs' | 'editExperiments' | 'migrate'): boolean {
  const role = viewer.value?.role;
  if (role === 'ADMIN') return true;
  if (action === 'migrate') return false;
  return role === 'EDITOR';
}

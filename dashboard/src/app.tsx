import { useEffect } from 'preact/hooks';
import { useSignal } from '@preact/signals';
import type { ComponentType } from 'preact';
import { connectionState } from './lib/graphql';
import { apiKey, keyGeneration, setApiKey } from './lib/key';
import { location$ } from './lib/route';
import { loadViewer, needsKey, viewer } from './lib/session';
import { theme, toggleTheme } from './lib/theme';
import { matchRoute, type RouteName } from './routes';
import { AuditView } from './views/audit';
import { ExperimentView } from './views/experiment';
import { ExperimentsView } from './views/experiments';
import { JobView } from './views/job';
import { JobsView } from './views/jobs';
import { MappingsView } from './views/mappings';
import { WorkersView } from './views/workers';

const VIEWS: Record<RouteName, ComponentType<{ id: string }>> = {
  experiments: ExperimentsView,
  experiment: ExperimentView,
  jobs: JobsView,
  job: JobView,
  workers: WorkersView,
  audit: AuditView,
  mappings: MappingsView,
};

const NAV: { href: string; label: string; routes: RouteName[] }[] = [
  { href: '/experiments', label: 'Experiments', routes: ['experiments', 'experiment'] },
  { href: '/jobs', label: 'Jobs', routes: ['jobs', 'job'] },
  { href: '/workers', label: 'Workers', routes: ['workers'] },
  { href: '/audit', label: 'Audit', routes: ['audit'] },
  { href: '/mappings', label: 'Training mappings', routes: ['mappings'] },
];

export function App() {
  const route = matchRoute(location$.value.pathname);
  useEffect(() => {
    void loadViewer();
  }, [apiKey.value]);
  const View = route ? VIEWS[route.name] : null;
  return (
    <>
      <header class="topbar">
        <a class="brand" href="/">
          Trialog
        </a>
        <nav>
          {NAV.map((item) => (
            <a
              key={item.href}
              href={item.href}
              aria-current={route && item.routes.includes(route.name) ? 'page' : undefined}
            >
              {item.label}
            </a>
          ))}
          <a href="/graphql" target="_blank" rel="noopener">
            GraphiQL
          </a>
        </nav>
        <span class={`connection connection-${connectionState.value}`} title="live updates">
          {connectionState.value}
        </span>
        <KeyControl />
        <button type="button" class="theme-toggle" onClick={toggleTheme} aria-label="toggle theme">
          {theme.value === 'dark' ? 'Light' : 'Dark'}
        </button>
      </header>
      <main>
        {View && route ? (
          <View key={`${route.name}:${route.id ?? ''}:${keyGeneration.value}`} id={route.id ?? ''} />
        ) : (
          <p>No such page.</p>
        )}
      </main>
    </>
  );
}

/** The key typed here stays in sessionStorage (see lib/key.ts); the field never echoes it back. */
function KeyControl() {
  const open = useSignal(false);
  const draft = useSignal('');
  const role = viewer.value ? `${viewer.value.name} (${viewer.value.role.toLowerCase()})` : 'no key';
  if (!open.value && !needsKey.value)
    return (
      <button type="button" class="key-button" onClick={() => (open.value = true)}>
        {role}
      </button>
    );
  return (
    <form
      class="key-form"
      onSubmit={(event) => {
        event.preventDefault();
        setApiKey(draft.value);
        draft.value = '';
        open.value = false;
      }}
    >
      <input
        type="password"
        name="apiKey"
        autocomplete="off"
        placeholder="API key"
        aria-label="API key"
        value={draft.value}
        onInput={(event) => (draft.value = (event.target as HTMLInputElement).value)}
      />
      <button type="submit">Use key</button>
      {apiKey.value && (
        <button type="button" onClick={() => (setApiKey(null), (open.value = false))}>
          Forget key
        </button>
      )}
    </form>
  );
}

// The experiment's settings as recorded at creation (`config`), readable: space, scheduler, early stopping, objective, limits.
import { useMemo } from 'preact/hooks';
import { readableSettings, type SettingLine } from '../../logic/experiment-settings';
import type { ExperimentSummary } from './header';

function Lines({ lines }: { lines: SettingLine[] }) {
  return (
    <>
      {lines.map((line) => (
        <div key={line.label} class="setting">
          <dt>{line.label}</dt>
          <dd>{line.value}</dd>
        </div>
      ))}
    </>
  );
}

export function Settings({ experiment }: { experiment: ExperimentSummary }) {
  const { config, objective, stopThreshold, maxConcurrent } = experiment;
  // `config` holds the scheduler and early stopping; the rest are the experiment's own fields.
  const settings = useMemo(
    () => readableSettings({ ...config, objective, stopThreshold, maxConcurrent }),
    [config, objective, stopThreshold, maxConcurrent],
  );
  return (
    <details class="settings" open>
      <summary>Settings</summary>
      <div class="settings-grid">
        <section>
          <h3>Search space</h3>
          <dl>
            {settings.space.length ? (
              <Lines lines={settings.space} />
            ) : (
              <p class="muted">none (jobs are given by hand)</p>
            )}
          </dl>
        </section>
        <section>
          <h3>Scheduler: {settings.scheduler}</h3>
          <dl>
            <Lines lines={settings.schedulerLines} />
          </dl>
        </section>
        <section>
          <h3>Objective</h3>
          <p>{settings.objective ?? <span class="muted">none</span>}</p>
          <h3>Early stopping</h3>
          <p>{settings.earlyStopping ?? <span class="muted">none</span>}</p>
          {settings.limits.length > 0 && (
            <dl>
              <Lines lines={settings.limits} />
            </dl>
          )}
        </section>
      </div>
    </details>
  );
}

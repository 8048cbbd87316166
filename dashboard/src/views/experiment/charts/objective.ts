export interface ObjectiveSetting {
  metric: string;
  direction: 'MINIMIZE' | 'MAXIMIZE';
}

/** The experiment's objective, or null when it has none. */
export type Objective = ObjectiveSetting | null;

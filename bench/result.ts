/** One row of the benchmark table. */
import type { LatencySummary } from './stats.js';

export interface ScenarioResult {
  scenario: string;
  /** The headline rate, e.g. 212 (trials/s). */
  rate: number;
  unit: string;
  /** What the latency columns measure (per trial, per request, delivery), when latency matters. */
  latency?: { of: string; summary: LatencySummary };
  /** The server's peak resident memory during the scenario, MiB. */
  peakMiB?: number;
  /** The share of the ceiling that bounds this scenario: rate (in the ceiling's unit) / ceiling. */
  ofCeiling?: { ceiling: string; ratio: number };
  target?: { text: string; met: boolean };
  note?: string;
  /**
   * The server process's CPU time (user and system) per unit of work: steadier than the rate on a
   * machine whose speed varies from run to run, and what a change to the server's code moves.
   */
  serverCpu?: { per: string; ms: number };
}

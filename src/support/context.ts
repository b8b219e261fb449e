import type { Env } from '../ci/gitstate.js';
import type { Logger } from '../output/logger.js';

/** Waits ms (or until the signal aborts): the wait before a retry. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * What every effect of a run may use, passed down as one value: the environment, the logger (whose `secrets` is the
 * run's one secret registry), the stop signal, the clock, the version, the process streams, and the wait between
 * retries. Parts that need less take a `Pick` of it.
 */
export interface RunContext {
  /** The process environment as given (never merged into process.env). */
  env: Env;
  /** Lines for people on stderr, known secrets masked; `log.secrets` is where a secret is registered. */
  log: Logger;
  /** Aborted on SIGINT/SIGTERM: builders are stopped, pipeline runs cancelled. */
  signal: AbortSignal;
  now: () => Date;
  version: string;
  /** Machine output only (tags JSON, the dry-run plan, the preview YAML). */
  stdout: NodeJS.WritableStream;
  /** Where builders' output for people goes, unless the run is silent. */
  stderr: NodeJS.WritableStream;
  /** The wait before every retry (registry reads, pushes, signing, ADO calls); unset: a real timer. Tests pass one that does not wait. */
  sleep?: Sleep;
}

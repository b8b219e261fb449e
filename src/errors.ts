/** Bad input (flags, config, environment, templates): exit 2, nothing was started. */
export class InputError extends Error {
  readonly exitCode = 2;
  /** Every problem found, each saying what is wrong, where, and how to fix it. */
  readonly problems: string[];

  constructor(problems: string | string[]) {
    const list = Array.isArray(problems) ? problems : [problems];
    super(list.join('\n'));
    this.name = 'InputError';
    this.problems = list;
  }
}

/** Work that was started and failed (build, pipeline, signing): exit 1. */
export class WorkError extends Error {
  readonly exitCode = 1;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WorkError';
  }
}

/** Collects problems so that all of them are reported together. */
export class Problems {
  private readonly found: string[] = [];

  add(problem: string): void {
    this.found.push(problem);
  }

  /** Runs fn and records its InputError problems instead of throwing them. */
  collect<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      return this.absorb(err);
    }
  }

  /** collect() for work that waits (reading a whole build context). */
  async collectAsync<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      return this.absorb(err);
    }
  }

  /** Records an InputError's problems; rethrows anything else. */
  private absorb(err: unknown): undefined {
    if (!(err instanceof InputError)) throw err;
    this.found.push(...err.problems);
    return undefined;
  }

  get size(): number {
    return this.found.length;
  }

  throwIfAny(): void {
    if (this.found.length > 0) throw new InputError(this.found);
  }
}

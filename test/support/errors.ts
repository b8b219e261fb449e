import { expect } from 'vitest';
import { InputError } from '../../src/errors.js';

/** The problems of the InputError fn throws; fails the test when it throws nothing or something else. */
export function inputProblems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err.problems;
    throw err;
  }
  throw new Error('expected an InputError');
}

/** The message of the InputError fn throws. */
export function inputMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as Error).message;
  }
  throw new Error('expected an InputError');
}

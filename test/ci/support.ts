import { readFileSync } from 'node:fs';
import { InputError } from '../../src/errors.js';
import type { Env, GitStateDeps } from '../../src/ci/index.js';
import { readGitState } from '../../src/ci/index.js';

/** Deps that read real files and have no git checkout; override per case. */
export function deps(overrides: Partial<GitStateDeps> = {}): GitStateDeps {
  return {
    readFile: (path) => readFileSync(path, 'utf8'),
    gitHead: () => undefined,
    ...overrides,
  };
}

/** The InputError readGitState throws for env; fails the test if it does not throw one. */
export function inputErrorOf(env: Env, d: GitStateDeps = deps()): InputError {
  try {
    readGitState(env, d);
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error(`expected an InputError for ${JSON.stringify(env)}`);
}

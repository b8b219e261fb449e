import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Logger } from '../../src/output/logger.js';
import { prepareSigning, runSigners } from '../../src/sign/run.js';
import type { SkippedSigner } from '../../src/sign/select.js';
import { testContext } from '../support/tools.js';

/** runSigners with no signer that runs: what it says on stderr. Nothing is read or sent. */
async function logOf(skipped: SkippedSigner[] | undefined): Promise<string> {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) });
  const io = testContext({ log: new Logger(stream, false) });
  const signing = await prepareSigning([], io, () => expect.unreachable('nothing is read'), { skipped });
  expect(await runSigners(signing, ['r.example/app:v1'], io)).toEqual([]);
  return lines.join('');
}

describe('runSigners names the signers that do not run (SPEC 11)', () => {
  it.each<[string, SkippedSigner[] | undefined, string]>([
    ['none configured: says so', undefined, 'no signers configured for this run: nothing signed\n'],
    [
      'configured but skipped: each named with its reason, not "none configured"',
      [
        { name: 'signify-prod', reason: 'runs for postsubmit, this is presubmit' },
        { name: 'repo-notary', reason: 'enabled for my-org/my-repo, this is org/repo' },
      ],
      'signify-prod skipped: runs for postsubmit, this is presubmit\nrepo-notary skipped: enabled for my-org/my-repo, this is org/repo\nno signer runs for this run: nothing signed\n',
    ],
  ])('%s', async (_, skipped, log) => {
    expect(await logOf(skipped)).toBe(log);
  });
});

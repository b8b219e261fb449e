import { describe, expect, it } from 'vitest';
import { NoAnswerError } from '../../../src/backends/ado/abort.js';
import { fromLibrary } from '../../../src/backends/ado/client.js';
import { sameParameters, startFailure, type StartFailure } from '../../../src/backends/ado/start.js';

// An error answer as azure-devops-node-api (typed-rest-client) throws it, made an HttpError where the client meets it.
const status = (statusCode: number) => fromLibrary(Object.assign(new Error(`HTTP ${statusCode}`), { statusCode }));
const net = (code: string) => Object.assign(new Error(code), { code });

describe('startFailure: what a failed start tells about the run', () => {
  it.each<[string, unknown, StartFailure]>([
    ['connection refused', net('ECONNREFUSED'), 'not-sent'],
    ['unknown host', net('ENOTFOUND'), 'not-sent'],
    ['socket hang up after sending', net('ECONNRESET'), 'lost'],
    ['no answer in time', new NoAnswerError('no answer within 60s'), 'lost'],
    ['an answer that is not JSON', new Error('Azure DevOps answered without a run'), 'lost'],
    ['gateway timeout', status(504), 'lost'],
    ['internal error', status(500), 'error-answer'],
    ['bad gateway', status(502), 'error-answer'],
    ['service unavailable', status(503), 'error-answer'],
    ['throttled', status(429), 'error-answer'],
    ['bad parameters', status(400), 'rejected'],
    ['bad token', status(401), 'rejected'],
    ['no permission', status(403), 'rejected'],
    ['conflict', status(409), 'rejected'],
  ])('%s → %s', (_, err, expected) => expect(startFailure(err)).toBe(expected));
});

describe('sameParameters: a run is ours when it has every parameter we sent, with the same value', () => {
  const sent = { RepoName: 'test-infra', Name: 'app', PullBaseSHA: 'abc', Target: '' };
  it.each<[string, Record<string, unknown> | undefined, boolean]>([
    ['exactly ours', { RepoName: 'test-infra', Name: 'app', PullBaseSHA: 'abc', Target: '' }, true],
    ['ours plus a default ADO added', { RepoName: 'test-infra', Name: 'app', PullBaseSHA: 'abc', Target: '', Extra: 'x' }, true],
    ['ours without the empty one', { RepoName: 'test-infra', Name: 'app', PullBaseSHA: 'abc' }, true],
    ['another commit', { RepoName: 'test-infra', Name: 'app', PullBaseSHA: 'def', Target: '' }, false],
    ['a parameter missing', { RepoName: 'test-infra', PullBaseSHA: 'abc', Target: '' }, false],
    ['no parameters at all', undefined, false],
    ['empty parameters', {}, false],
  ])('%s → %s', (_, run, expected) => expect(sameParameters(sent, run)).toBe(expected));
});

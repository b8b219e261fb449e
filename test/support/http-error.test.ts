import { describe, expect, it } from 'vitest';
import { WorkError } from '../../src/errors.js';
import { AbortError, HttpError, isTemporary, statusOf } from '../../src/support/http-error.js';

describe('HttpError: temporary unless the status says the answer will not change', () => {
  it.each<[string, ConstructorParameters<typeof HttpError>[1], boolean]>([
    ['no answer (refused, reset, timed out)', {}, true],
    ['500', { status: 500 }, true],
    ['503', { status: 503 }, true],
    ['429', { status: 429 }, true],
    ['400', { status: 400 }, false],
    ['401', { status: 401 }, false],
    ['403', { status: 403 }, false],
    ['404', { status: 404 }, false],
    ['302', { status: 302 }, false],
    ['404, said temporary by its caller (a signing service)', { status: 404, temporary: true }, true],
    ['200 without what was asked for, said final by its caller', { status: 200, temporary: false }, false],
  ])('%s → temporary %s', (_name, options, temporary) => {
    const err = new HttpError('failed', options);
    expect(err.temporary).toBe(temporary);
    expect(err.status).toBe(options?.status);
  });

  it('is failed work (exit 1) with its message and cause', () => {
    const cause = new Error('socket hang up');
    const err = new HttpError('https://sign.example: socket hang up', { cause });
    expect(err).toBeInstanceOf(WorkError);
    expect(err).toMatchObject({ exitCode: 1, name: 'HttpError', message: 'https://sign.example: socket hang up', cause });
  });
});

describe('isTemporary: whether another try may succeed', () => {
  it.each<[string, unknown, boolean]>([
    ['a network error (no status)', new Error('ECONNRESET'), true],
    ['HttpError 500', new HttpError('HTTP 500', { status: 500 }), true],
    ['HttpError 429', new HttpError('HTTP 429', { status: 429 }), true],
    ['HttpError 401', new HttpError('HTTP 401', { status: 401 }), false],
    ['HttpError 404', new HttpError('HTTP 404', { status: 404 }), false],
    ['an abort', new AbortError('aborted'), false],
    ['not an error', 'ECONNRESET', true],
  ])('%s → %s', (_name, err, expected) => expect(isTemporary(err)).toBe(expected));

  it('statusOf reads an HttpError only', () => {
    expect(statusOf(new HttpError('HTTP 502', { status: 502 }))).toBe(502);
    expect(statusOf(new HttpError('no answer'))).toBeUndefined();
    expect(statusOf(new Error('HTTP 502'))).toBeUndefined();
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { abortingHandler, certainlyNotSent, NoAnswerError, tryWithin } from '../../../src/backends/ado/abort.js';
import { isTemporary } from '../../../src/support/http-error.js';
import type { IRequestHandler } from 'azure-devops-node-api/interfaces/common/VsoBaseInterfaces.js';

const netError = (code: string, syscall = 'connect') => Object.assign(new Error(`${syscall} ${code}`), { code, syscall });

describe('certainlyNotSent: only errors of the connection attempt', () => {
  it.each<[string, unknown, boolean]>([
    ['connection refused', netError('ECONNREFUSED'), true],
    ['unknown host', netError('ENOTFOUND', 'getaddrinfo'), true],
    ['DNS try again', netError('EAI_AGAIN', 'getaddrinfo'), true],
    ['network unreachable', netError('ENETUNREACH'), true],
    ['reset (after sending)', netError('ECONNRESET', 'read'), false],
    ['socket hang up', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), false],
    ['broken pipe', netError('EPIPE', 'write'), false],
    ['no answer in time', new NoAnswerError('no answer within 60s'), false],
    ['HTTP 500', Object.assign(new Error('TF400898'), { statusCode: 500 }), false],
    ['not an error', 'ECONNREFUSED', false],
  ])('%s → %s', (_, err, expected) => expect(certainlyNotSent(err)).toBe(expected));
});

describe('tryWithin', () => {
  it('rejects with an AbortError (not retried) as soon as the outer signal aborts', async () => {
    const outer = new AbortController();
    const started = Date.now();
    const pending = tryWithin(() => new Promise<never>(() => undefined), outer.signal, 60_000);
    setTimeout(() => outer.abort(new Error('stopped by SIGTERM')), 20);
    const err = await pending.catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ name: 'AbortError', message: 'stopped by SIGTERM' });
    expect(isTemporary(err)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('rejects with a retryable NoAnswerError when one try takes longer than its limit', async () => {
    const err = await tryWithin(() => new Promise<never>(() => undefined), new AbortController().signal, 30).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(NoAnswerError);
    expect(err.message).toBe('no answer within 0.03s');
    expect(isTemporary(err)).toBe(true);
  });

  it('passes the result and the errors of fn through', async () => {
    const signal = new AbortController().signal;
    await expect(tryWithin(async () => 42, signal, 1_000)).resolves.toBe(42);
    await expect(tryWithin(async () => Promise.reject(new Error('HTTP 500')), signal, 1_000)).rejects.toThrow('HTTP 500');
  });
});

describe('abortingHandler: the request in flight is really aborted', () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? (server.closeAllConnections(), server.close(() => resolve())) : resolve())));

  it('hands the signal of the try to http.request, which closes the socket when it aborts', async () => {
    const closed: Promise<void>[] = [];
    server = http.createServer((req) => closed.push(new Promise((resolve) => req.socket.on('close', resolve))));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const prepared: http.RequestOptions[] = [];
    const inner: IRequestHandler = {
      prepareRequest: (options) => void prepared.push(options),
      canHandleAuthentication: () => false,
      handleAuthentication: () => Promise.reject(new Error('not used')),
    };
    const handler = abortingHandler(inner, new AbortController().signal);
    const outer = new AbortController();
    const request = (): Promise<never> =>
      new Promise((_, reject) => {
        const options: http.RequestOptions = { host: '127.0.0.1', port, path: '/hang' };
        handler.prepareRequest(options);
        http.get(options).on('error', reject);
      });
    const pending = tryWithin(request, outer.signal, 60_000).catch((e: unknown) => e as Error);
    await new Promise<void>((resolve) => server!.once('request', () => resolve()));
    outer.abort(new Error('stopped by SIGTERM'));
    expect(await pending).toMatchObject({ name: 'AbortError' });
    // The server sees the connection go: nothing is left to keep the process alive.
    await Promise.all(closed);
    expect(prepared).toHaveLength(1);
    expect(prepared[0]!.signal?.aborted).toBe(true);
  });

  it('outside a try, requests carry the fallback signal (SIGINT/SIGTERM)', () => {
    const fallback = new AbortController().signal;
    const options: http.RequestOptions = {};
    abortingHandler({ prepareRequest: () => undefined, canHandleAuthentication: () => false, handleAuthentication: () => Promise.reject(new Error('x')) }, fallback).prepareRequest(options);
    expect(options.signal).toBe(fallback);
  });
});

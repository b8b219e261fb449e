import { describe, expect, it } from 'vitest';
import { answerError, FINAL_STATUSES } from '../../src/sign/http.js';

describe('answerError: success code per protocol, final statuses', () => {
  it.each<[number, number, { error: boolean; temporary?: boolean }]>([
    [200, 200, { error: false }],
    [202, 202, { error: false }],
    [200, 202, { error: true, temporary: true }],
    [202, 200, { error: true, temporary: true }],
    [500, 200, { error: true, temporary: true }],
    [503, 202, { error: true, temporary: true }],
    [404, 200, { error: true, temporary: true }],
    [429, 200, { error: true, temporary: true }],
    ...FINAL_STATUSES.map((status): [number, number, { error: boolean; temporary?: boolean }] => [status, 200, { error: true, temporary: false }]),
  ])('HTTP %i when %i is success → %j', (status, success, expected) => {
    const err = answerError({ status, statusText: '', body: '' }, success);
    expect(err !== undefined).toBe(expected.error);
    if (err) expect(err).toMatchObject({ status, temporary: expected.temporary });
  });

  it('the final statuses are exactly 400, 401, 403, 415', () => expect(FINAL_STATUSES).toEqual([400, 401, 403, 415]));

  it('the message has status, reason and the answer on one line, cut at 200 characters', () => {
    const err = answerError({ status: 503, statusText: 'Service Unavailable', body: `{"error":\n  "busy"}${'x'.repeat(300)}` }, 200);
    expect(err?.message).toMatch(/^HTTP 503 Service Unavailable: \{"error": "busy"\}x+$/);
    expect(err?.message.length).toBe('HTTP 503 Service Unavailable: '.length + 200);
  });

  it('says where, when given', () => {
    expect(answerError({ status: 401, statusText: 'Unauthorized', body: '' }, 200, 'token endpoint https://t.example/token')?.message).toBe('token endpoint https://t.example/token: HTTP 401 Unauthorized');
  });
});

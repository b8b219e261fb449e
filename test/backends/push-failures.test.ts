import { describe, expect, it } from 'vitest';
import { transientPushFailure } from '../../src/backends/buildah-push.js';

// Lines as buildah 1.28 prints them (captured through test/support/fault-proxy.ts in front of docker-registry).
const cases: { name: string; lines: string[]; expected: ReturnType<typeof transientPushFailure> }[] = [
  {
    name: '5xx when pinging',
    lines: ['Error: pushing image "localhost/x:1" to "docker://127.0.0.1:5000/x:1": trying to reuse blob sha256:88 at destination: pinging container registry 127.0.0.1:5000: invalid status code from registry 500 (Internal Server Error)'],
    expected: { kind: 'status', detail: 'HTTP 500' },
  },
  {
    name: '502 when checking a blob',
    lines: ['Error: copying image 1/2 from manifest list: trying to reuse blob sha256:f9 at destination: failed to read from destination repository exp/s1: 502 (Bad Gateway)'],
    expected: { kind: 'status', detail: 'HTTP 502' },
  },
  {
    name: '503 when starting an upload',
    lines: ['Error: pushing image "localhost/x:1" to "docker://127.0.0.1:5000/x:1": writing blob: initiating layer upload to /v2/x/blobs/uploads/ in 127.0.0.1:5000: received unexpected HTTP status: 503 Service Unavailable'],
    expected: { kind: 'status', detail: 'HTTP 503' },
  },
  {
    name: '429 on the manifest',
    lines: ['Error: writing manifest: uploading manifest 1 to 127.0.0.1:5000/x: received unexpected HTTP status: 429 Too Many Requests'],
    expected: { kind: 'status', detail: 'HTTP 429' },
  },
  {
    name: 'a connection dropped during the upload',
    lines: ['Error: pushing image "localhost/x:1" to "docker://127.0.0.1:5000/x:1": writing blob: Patch "http://127.0.0.1:5000/v2/x/blobs/uploads/1?_state=a": write tcp 127.0.0.1:36164->127.0.0.1:5000: use of closed network connection'],
    expected: { kind: 'network', detail: 'use of closed network connection' },
  },
  {
    name: 'connection refused',
    lines: ['Error: pushing image "localhost/x:1" to "docker://127.0.0.1:1/x:1": trying to reuse blob sha256:c3 at destination: pinging container registry 127.0.0.1:1: Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused'],
    expected: { kind: 'network', detail: 'connection refused' },
  },
  {
    name: 'no such host',
    lines: ['Error: pushing image "localhost/x:1" to "docker://nonexistent.invalid/x:1": pinging container registry nonexistent.invalid: Get "https://nonexistent.invalid/v2/": dial tcp: lookup nonexistent.invalid on 10.0.0.53:53: no such host'],
    expected: { kind: 'network', detail: 'no such host' },
  },
  {
    name: 'EOF when pinging',
    lines: ['Error: pinging container registry 127.0.0.1:5000: Get "http://127.0.0.1:5000/v2/": EOF'],
    expected: { kind: 'network', detail: 'EOF' },
  },
  {
    name: 'a manifest whose blob a concurrent upload had not finished (docker-registry\'s answer)',
    lines: ['Error: pushing image "localhost/x:1" to "docker://127.0.0.1:5000/two/app:latest": writing manifest: uploading manifest latest to 127.0.0.1:5000/two/app: errors:', 'digest invalid', 'manifest blob unknown: blob unknown to registry', ''],
    expected: { kind: 'status', detail: 'manifest blob unknown to registry' },
  },
  {
    name: 'unauthorized: final',
    lines: ['Error: pushing image "localhost/x:1" to "docker://reg/x:1": writing blob: initiating layer upload to /v2/x/blobs/uploads/ in reg: received unexpected HTTP status: 401 Unauthorized'],
    expected: undefined,
  },
  {
    name: 'denied with a 403: final',
    lines: ['Error: copying image: failed to read from destination repository x: 403 (Forbidden)'],
    expected: undefined,
  },
  {
    name: 'a local error: final',
    lines: ['Error: localhost/x:1: image not known'],
    expected: undefined,
  },
  {
    name: 'the error line decides, not earlier progress lines',
    lines: ['time="…" level=warning msg="Failed, retrying in 500ms ... (1/3). Error: …: connection refused"', 'Copying blob sha256:aa', 'Error: writing manifest: uploading manifest 1 to reg/x: received unexpected HTTP status: 400 Bad Request'],
    expected: undefined,
  },
  {
    name: 'no Error line: the last lines decide',
    lines: ['Getting image source signatures', 'write tcp 127.0.0.1:1->127.0.0.1:2: connection reset by peer'],
    expected: { kind: 'network', detail: 'connection reset' },
  },
];

describe('which buildah push failures are tried again', () => {
  it.each(cases)('$name', ({ lines, expected }) => {
    expect(transientPushFailure(lines)).toEqual(expected);
  });
});

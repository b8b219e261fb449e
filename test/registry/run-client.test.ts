import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PushRegistries } from '../../src/backends/pushed.js';
import { parseDestination } from '../../src/reference.js';
import { loadCredentials } from '../../src/registry/auth.js';
import { runRegistryClient } from '../../src/registry/client.js';
import { captureIO, removeTempDirs, requireTool, tempDir } from '../support/tools.js';
import { pushTestImage, startTokenRegistry } from '../support/token-registry.js';

afterAll(removeTempDirs);

const ready = requireTool('docker-registry', 'apt-get install docker-registry');

/** A Docker config.json with the registry's password, as the user's would be. */
function dockerConfig(host: string, user: string, password: string): string {
  const dir = tempDir('run-client-docker');
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } }));
  return dir;
}

describe.skipIf(!ready)('every registry client of a run registers what it fetches as secrets (one factory)', () => {
  it('runRegistryClient: the bearer token it fetched is masked in the run\'s output; a stop signal and the run\'s wait reach it', async () => {
    const registry = await startTokenRegistry({ ci: 'registry-password-123' });
    try {
      const image = await pushTestImage(registry.url, 'team/app', 'v1', { headers: { Authorization: `Bearer ${registry.mint('team/app', ['pull', 'push'])}` } });
      const dir = dockerConfig(registry.host, 'ci', 'registry-password-123');
      const { io } = captureIO({ DOCKER_CONFIG: dir, HOME: dir });
      const client = runRegistryClient(io, { credentials: loadCredentials(io.env), timeoutMs: 10_000 });
      const manifest = await client.getManifest({ registry: registry.host, repository: 'team/app', tag: 'v1' });
      expect(manifest.digest).toBe(image.digest);
      const token = registry.issued.at(-1) ?? expect.unreachable('no token issued');
      expect(io.log.redact(`Authorization: Bearer ${token}`)).toBe('Authorization: Bearer ***');
    } finally {
      await registry.stop();
    }
  });

  it('the push check (PushRegistries) asks through the same factory: its token is masked too', async () => {
    const registry = await startTokenRegistry({ ci: 'registry-password-456' });
    try {
      const image = await pushTestImage(registry.url, 'team/app', 'v1', { headers: { Authorization: `Bearer ${registry.mint('team/app', ['pull', 'push'])}` } });
      const dir = dockerConfig(registry.host, 'ci', 'registry-password-456');
      const { io } = captureIO({ DOCKER_CONFIG: dir, HOME: dir });
      const lines: string[] = [];
      const registries = new PushRegistries(io, { line: (text: string) => void lines.push(text) } as unknown as ConstructorParameters<typeof PushRegistries>[1]);
      const before = registry.issued.length;
      const destination = parseDestination(`${registry.host}/team/app:v1`);
      if (typeof destination === 'string') throw new Error(destination);
      const confirmed = await registries.confirm(destination, image.digest, true);
      expect(JSON.stringify(confirmed)).toContain(image.digest);
      const token = registry.issued.at(-1);
      expect(registry.issued.length).toBeGreaterThan(before);
      expect(io.log.redact(`token ${token}`)).toBe('token ***');
    } finally {
      await registry.stop();
    }
  });
});

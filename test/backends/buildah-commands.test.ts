import { parseDestination } from '../../src/reference.js';
import { backendPlanProblems } from '../../src/backends/index.js';
import { buildahBackend } from '../../src/backends/buildah.js';
import { describe, expect, it } from 'vitest';
import { cacheDir, localImageName } from '../../src/backends/buildah.js';
import type { Plan } from '../../src/plan-types.js';
import { makePlan } from '../support/plan-factory.js';

const buildah = buildahBackend;
const ENV = { IMAGE_BUILDER_CACHE_DIR: '/cache', BUILDAH: undefined };
const GLOBAL = ['buildah', '--root', '/cache/buildah/root', '--runroot', '/cache/buildah/runroot', '--storage-driver=vfs'];
const COMMIT = ['--build-arg', 'COMMIT_SHA=0123456789abcdef0123456789abcdef01234567'];
const LOCAL = 'localhost/image-builder/test-infra/app:build-dry-run';
const SCRATCH = '<private temp dir>';

const cases: { name: string; plan: Plan; argvs: string[][] }[] = [
  {
    name: 'one destination on a remote registry: TLS verified',
    plan: makePlan(),
    argvs: [
      [...GLOBAL, 'build', '--isolation=chroot', '-f', '/src/app/Dockerfile', ...COMMIT, '-t', LOCAL, '/src/app'],
      [...GLOBAL, 'push', '--retry=0', '--retry-delay=500ms', '--digestfile', `${SCRATCH}/push-1.digest`, LOCAL, 'docker://europe-docker.pkg.dev/kyma-project/prod/test-infra/app:v20240101-01234567'],
    ],
  },
  {
    name: 'target, one platform, tricky build args, loopback and disk destinations',
    plan: makePlan(
      { target: 'runtime', platforms: ['linux/arm64'], dockerfile: 'docker/Dockerfile' },
      {
        variant: 'a b',
        buildArgs: { Q: `it's "q" $(id) \`x\`` },
        destinations: ['127.0.0.1:5000/x/app:v1', '[::1]:5000/x/app:v1', 'localhost/x/app:v1', 'oci:/out/layout:v1', 'oci-archive:/out/app.tar:v1'],
      },
    ),
    argvs: [
      [
        ...GLOBAL, 'build', '--isolation=chroot', '-f', '/src/app/docker/Dockerfile', ...COMMIT, '--build-arg', `Q=it's "q" $(id) \`x\``,
        '--target', 'runtime', '--platform', 'linux/arm64', '-t', 'localhost/image-builder/test-infra/app:a-b-dry-run', '/src/app',
      ],
      [...GLOBAL, 'push', '--retry=0', '--retry-delay=500ms', '--tls-verify=false', '--digestfile', `${SCRATCH}/push-1.digest`, 'localhost/image-builder/test-infra/app:a-b-dry-run', 'docker://127.0.0.1:5000/x/app:v1'],
      [...GLOBAL, 'push', '--retry=0', '--retry-delay=500ms', '--tls-verify=false', '--digestfile', `${SCRATCH}/push-2.digest`, 'localhost/image-builder/test-infra/app:a-b-dry-run', 'docker://[::1]:5000/x/app:v1'],
      [...GLOBAL, 'push', '--retry=0', '--retry-delay=500ms', '--tls-verify=false', '--digestfile', `${SCRATCH}/push-3.digest`, 'localhost/image-builder/test-infra/app:a-b-dry-run', 'docker://localhost/x/app:v1'],
      [...GLOBAL, 'push', '--retry=0', '--retry-delay=500ms', '--digestfile', `${SCRATCH}/push-4.digest`, 'localhost/image-builder/test-infra/app:a-b-dry-run', 'oci:/out/layout:v1'],
      [...GLOBAL, 'push', '--retry=0', '--retry-delay=500ms', '--digestfile', `${SCRATCH}/push-5.digest`, 'localhost/image-builder/test-infra/app:a-b-dry-run', 'oci-archive:/out/app.tar:v1'],
    ],
  },
  {
    name: 'labels (reuse: the inputs digest), after the build args',
    plan: makePlan({}, { labels: { 'io.image-builder.inputs': `sha256:${'c'.repeat(64)}`, 'org.example/x': 'a b' } }),
    argvs: [
      [...GLOBAL, 'build', '--isolation=chroot', '-f', '/src/app/Dockerfile', ...COMMIT, '--label', `io.image-builder.inputs=sha256:${'c'.repeat(64)}`, '--label', 'org.example/x=a b', '-t', LOCAL, '/src/app'],
      [...GLOBAL, 'push', '--retry=0', '--retry-delay=500ms', '--digestfile', `${SCRATCH}/push-1.digest`, LOCAL, 'docker://europe-docker.pkg.dev/kyma-project/prod/test-infra/app:v20240101-01234567'],
    ],
  },
  {
    name: 'several platforms: a manifest list, pushed with all its images',
    plan: makePlan({ platforms: ['linux/amd64', 'linux/arm64'] }, { destinations: ['reg.example/x/app:v1', '127.0.0.2:443/x/app:v1'] }),
    argvs: [
      [...GLOBAL, 'build', '--isolation=chroot', '-f', '/src/app/Dockerfile', ...COMMIT, '--platform', 'linux/amd64,linux/arm64', '--manifest', LOCAL, '/src/app'],
      [...GLOBAL, 'manifest', 'push', '--all', '--digestfile', `${SCRATCH}/push-1.digest`, LOCAL, 'docker://reg.example/x/app:v1'],
      [...GLOBAL, 'manifest', 'push', '--all', '--tls-verify=false', '--digestfile', `${SCRATCH}/push-2.digest`, LOCAL, 'docker://127.0.0.2:443/x/app:v1'],
    ],
  },
  {
    name: 'hosts that only look local keep TLS',
    plan: makePlan({}, { destinations: ['localhost.example.com/x:v1', '128.0.0.1:5000/x:v1', 'localhost-registry/x:v1'] }),
    argvs: [
      [...GLOBAL, 'build', '--isolation=chroot', '-f', '/src/app/Dockerfile', ...COMMIT, '-t', LOCAL, '/src/app'],
      [...GLOBAL, 'push', '--retry=0', '--retry-delay=500ms', '--digestfile', `${SCRATCH}/push-1.digest`, LOCAL, 'docker://localhost.example.com/x:v1'],
      [...GLOBAL, 'push', '--retry=0', '--retry-delay=500ms', '--digestfile', `${SCRATCH}/push-2.digest`, LOCAL, 'docker://128.0.0.1:5000/x:v1'],
      [...GLOBAL, 'push', '--retry=0', '--retry-delay=500ms', '--digestfile', `${SCRATCH}/push-3.digest`, LOCAL, 'docker://localhost-registry/x:v1'],
    ],
  },
  {
    name: 'labels and annotations on the build; the pushes are unchanged (an index is annotated through the registry)',
    plan: makePlan({ platforms: ['linux/amd64', 'linux/arm64'] }, { labels: { 'org.opencontainers.image.source': 'https://github.com/o/r', note: 'a=b c' }, annotations: { 'org.opencontainers.image.version': 'v1' } }),
    argvs: [
      [
        ...GLOBAL, 'build', '--isolation=chroot', '-f', '/src/app/Dockerfile', ...COMMIT,
        '--label', 'org.opencontainers.image.source=https://github.com/o/r', '--label', 'note=a=b c', '--annotation', 'org.opencontainers.image.version=v1',
        '--platform', 'linux/amd64,linux/arm64', '--manifest', LOCAL, '/src/app',
      ],
      [...GLOBAL, 'manifest', 'push', '--all', '--digestfile', `${SCRATCH}/push-1.digest`, LOCAL, 'docker://europe-docker.pkg.dev/kyma-project/prod/test-infra/app:v20240101-01234567'],
    ],
  },
  {
    name: 'build secrets: type=file always, a file secret from its file, an environment secret from a private file',
    plan: makePlan({ secrets: [{ id: 'npm', src: '/run/secrets/npm' }, { id: 'gh', env: 'GH_TOKEN' }] }),
    argvs: [
      [
        ...GLOBAL, 'build', '--isolation=chroot', '-f', '/src/app/Dockerfile', ...COMMIT,
        '--secret', 'type=file,id=npm,src=/run/secrets/npm', '--secret', `type=file,id=gh,src=${SCRATCH}/secret-2`, '-t', LOCAL, '/src/app',
      ],
      [...GLOBAL, 'push', '--retry=0', '--retry-delay=500ms', '--digestfile', `${SCRATCH}/push-1.digest`, LOCAL, 'docker://europe-docker.pkg.dev/kyma-project/prod/test-infra/app:v20240101-01234567'],
    ],
  },
];

describe('buildah commands', () => {
  it.each(cases)('$name', ({ plan, argvs }) => {
    expect(backendPlanProblems(buildah, plan)).toEqual([]);
    expect(buildah.commands(plan, plan.builds[0]!, ENV)).toEqual(argvs);
  });

  it('BUILDAH overrides the executable', () => {
    const plan = makePlan();
    expect(buildah.commands(plan, plan.builds[0]!, { ...ENV, BUILDAH: '/opt/buildah' }).map((argv) => argv[0])).toEqual(['/opt/buildah', '/opt/buildah']);
  });

  it.each([
    { env: { IMAGE_BUILDER_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' }, dir: '/c' },
    { env: { XDG_CACHE_HOME: '/x', HOME: '/h' }, dir: '/x/image-builder' },
    { env: { HOME: '/h' }, dir: '/h/.cache/image-builder' },
  ])('keeps its store in $dir', ({ env, dir }) => {
    expect(cacheDir(env)).toBe(dir);
  });

  it.each([
    { name: 'Test-Infra/My_App', variant: undefined, local: 'localhost/image-builder/test-infra/my-app:build-1234' },
    { name: undefined, variant: '.arm/v7', local: 'localhost/image-builder/image:arm-v7-1234' },
  ])('local image name for $name $variant is a valid reference', ({ name, variant, local }) => {
    // No destinations: such a name makes none (the planner refuses it); the local name must still be valid.
    const plan = makePlan({ ...(name ? { name } : { name: undefined }) }, { destinations: [], ...(variant ? { variant } : {}) });
    expect(localImageName(plan, plan.builds[0]!, '1234')).toBe(local);
  });

  it.each([
    { secret: { id: 'a,b', env: 'X' }, problem: 'buildah cannot read --secret id=a,b: its id has a comma, where buildah splits --secret; rename it, or use --backend buildkit' },
    { secret: { id: 'a', src: '/s/x,y' }, problem: 'buildah cannot read --secret id=a: its file /s/x,y has a comma, where buildah splits --secret; rename it, or use --backend buildkit' },
  ])('refuses a secret buildah would misread: $secret.id', ({ secret, problem }) => {
    expect(backendPlanProblems(buildah, makePlan({ secrets: [secret] }))).toEqual([problem]);
  });

  it.each(['oci:relative/dir:v1', 'oci-archive:/out/a:b/app.tar:v1', 'oci:/out/x:bad tag'])('rejects the disk destination %s', (destination) => {
    expect(parseDestination(destination)).toMatch(/oci:\/absolute\/dir\[:tag\]/);
  });
});

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostPlatform, inputsOf, scanInputs } from '../src/inputs/index.js';
import { inputsListing } from '../src/reuse/describe.js';
import { baseEnv, removeTempDirs, ROOT, runCli, tempDir } from './support/cli.js';
import { freePort } from './support/registry.js';
import { requireTool } from './support/tools.js';

// Every README example marked `<!-- readme-test: NAME [stdout|stderr|shell] -->` is run through the real CLI and
// its output compared with the README, so an example cannot go stale. The marker precedes the command block; the
// next fenced block after that is the output. A `shell` example is pasted into bash as a whole (stdout and stderr
// together), with its folder /tmp/my-image and its port 5000 moved to a temp folder and a free port.

afterAll(removeTempDirs);

interface ReadmeExample {
  name: string;
  stream: 'stdout' | 'stderr' | 'shell';
  /** 1-based line of the marker, for messages. */
  line: number;
  command: string;
  expected: string;
}

const MARKER = /^<!-- readme-test: ([\w.-]+)(?: (stdout|stderr|shell))? -->$/;

/** The marked examples of a README: each marker, the fenced block after it (the command) and the next one (the output). */
function readmeExamples(text: string): ReadmeExample[] {
  const lines = text.split('\n');
  const at = (i: number): string => lines[i] ?? '';
  const examples: ReadmeExample[] = [];
  const blockAfter = (from: number): { body: string; end: number } | undefined => {
    let start = from;
    while (start < lines.length && !/^```/.test(at(start)) && !MARKER.test(at(start))) start++;
    if (start >= lines.length || MARKER.test(at(start))) return undefined;
    let end = start + 1;
    while (end < lines.length && !/^```\s*$/.test(at(end))) end++;
    return { body: lines.slice(start + 1, end).join('\n'), end: end + 1 };
  };
  lines.forEach((line, index) => {
    const match = MARKER.exec(line.trim());
    if (!match) return;
    const command = blockAfter(index + 1);
    const output = command && blockAfter(command.end);
    if (!command || !output) throw new Error(`README.md:${index + 1}: marker "${match[1]}" is not followed by a command block and an output block`);
    examples.push({ name: match[1] ?? '', stream: (match[2] as ReadmeExample['stream'] | undefined) ?? 'stdout', line: index + 1, command: command.body, expected: output.body });
  });
  return examples;
}

/** Splits a shell line into words: single and double quotes, backslash escapes; no expansion (examples use none). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let text = '';
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && /["\\$`]/.test(line[j + 1] ?? '')) j++;
        if (line[j] === '$' || line[j] === '`') throw new Error(`expansion is not supported in README examples: ${line}`);
        text += line[j] ?? '';
      }
      if (j >= line.length) throw new Error(`unterminated " in: ${line}`);
      word = (word ?? '') + text;
      i = j;
    } else if (c === '\\') {
      word = (word ?? '') + (line[++i] ?? '');
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '#' && word === undefined) {
      break;
    } else if ('$`|;&<>()'.includes(c)) {
      throw new Error(`shell syntax "${c}" is not supported in README examples: ${line}`);
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

interface ExampleCommand {
  env: Record<string, string>;
  args: string[];
}

/** The commands of a block: continuation lines joined, comments dropped, leading NAME=value words into the env. */
function exampleCommands(block: string): ExampleCommand[] {
  const logical = block.replace(/\\\n/g, ' ').split('\n');
  return logical
    .map((line) => shellWords(line))
    .filter((words) => words.length > 0)
    .map((words) => {
      const env: Record<string, string> = {};
      let i = 0;
      for (; i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i] ?? ''); i++) {
        const word = words[i] ?? '';
        const eq = word.indexOf('=');
        env[word.slice(0, eq)] = word.slice(eq + 1);
      }
      if (words[i] !== 'bin/image-builder') throw new Error(`a tested README example runs bin/image-builder, not: ${words.join(' ')}`);
      return { env, args: words.slice(i + 1) };
    });
}

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Masks what differs from run to run or machine to machine, on both sides of the comparison. */
function normalise(text: string): string {
  return text
    .replaceAll(ROOT, '/tmp/example-repo')
    .replace(new RegExp(`${escape(tmpdir())}/[\\w.-]+`, 'g'), '<temp>')
    .replace(/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z\b/g, '<time>')
    .replace(/(?<!\d)20\d{2}[01]\d[0-3]\d(?!\d)/g, '<YYYYMMDD>')
    .replace(/(?<!\d)\d{8}\.\d{6}(?!\d)/g, '<YYYYMMDD.HHMMSS>')
    .replace(/sha256:[0-9a-f]{64}/g, 'sha256:<digest>')
    .replace(/sha256:[0-9a-f]{8}…[0-9a-f]{5}/g, 'sha256:<digest>')
    .replace(/sha256-[0-9a-f]{8}…[0-9a-f]{5}/g, 'sha256-<digest>')
    .replace(/inputs-[0-9a-f]{8}…[0-9a-f]{5}/g, 'inputs-<digest>')
    .replace(/inputs-[0-9a-f]{64}/g, 'inputs-<digest>')
    .replace(/sha256-[0-9a-f]{64}/g, 'sha256-<digest>')
    .replace(/\b\d+(\.\d+)?(ms|s)\b/g, '<duration>')
    .replace(/\b(127\.0\.0\.1|localhost):\d+/g, '$1:<port>')
    .replaceAll(VERSION, '<version>')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trim();
}

/** The folders shell examples work in: each moved to a temp folder of the test. */
const SHELL_DIRS = ['/tmp/my-image', '/tmp/promote'];

/**
 * Runs a shell example as a reader pastes it, in the checkout, with its folders moved to temp folders and each
 * `127.0.0.1:<port>` it names moved to a free port; whatever it started in the background is stopped however it ends.
 */
async function runShellExample(block: string): Promise<{ code: number | null; output: string }> {
  const dirs = SHELL_DIRS.map((from) => [from, tempDir('ib-readme-shell-')] as const);
  let script = block;
  for (const [from, to] of dirs) script = script.replaceAll(from, to);
  for (const port of new Set([...block.matchAll(/127\.0\.0\.1:(\d{4,5})\b/g)].map((m) => m[1] ?? ''))) {
    script = script.replaceAll(`127.0.0.1:${port}`, `127.0.0.1:${await freePort()}`);
  }
  script = `exec 2>&1\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n${script}\n`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd: ROOT, env: baseEnv(), stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      for (const [from, to] of dirs) output = output.replaceAll(to, from);
      resolve({ code, output });
    });
  });
}

const HAS_BUILD_TOOLS = requireTool('buildah', 'bash scripts/setup-system.sh') && requireTool('docker-registry', 'bash scripts/setup-system.sh');

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const EXAMPLES = readmeExamples(README);

describe('README examples run as written', () => {
  it('has the examples the README promises to keep true', () => {
    expect(EXAMPLES.map((e) => e.name)).toEqual(expect.arrayContaining(['dry-run', 'parse-tags-prow', 'parse-tags-github', 'build-your-own', 'promotion']));
  });

  it.each(EXAMPLES.filter((e) => e.stream !== 'shell').map((e) => [e.name, e] as const))('%s', async (_name, example) => {
    let printed = '';
    for (const command of exampleCommands(example.command)) {
      const r = await runCli(command.args, { env: baseEnv(command.env), cwd: ROOT });
      expect(r.code, `README.md:${example.line}: exit code; stderr:\n${r.stderr}`).toBe(0);
      printed += example.stream === 'stderr' ? r.stderr : r.stdout;
    }
    expect(normalise(printed), `README.md:${example.line}: the output of example "${example.name}"`).toBe(normalise(example.expected));
  });
});

describe.runIf(HAS_BUILD_TOOLS)('README shell examples run as pasted (buildah, docker-registry)', () => {
  it.each(EXAMPLES.filter((e) => e.stream === 'shell').map((e) => [e.name, e] as const))('%s', async (_name, example) => {
    const r = await runShellExample(example.command);
    expect(r.code, `README.md:${example.line}: exit code; output:\n${r.output}`).toBe(0);
    expect(normalise(r.output), `README.md:${example.line}: the output of example "${example.name}"`).toBe(normalise(example.expected));
  }, 150_000);
});

describe('README fragments of longer runs', () => {
  it('the --debug listing of the inputs is what the promotion example\'s app lists', async () => {
    const at = README.indexOf('`--debug` lists every input with its hash');
    const block = /```\n([\s\S]*?)\n```/.exec(README.slice(at))?.[1] ?? '';
    expect(block).toContain('image-builder-inputs');
    const app = tempDir('ib-readme-app-');
    writeFileSync(join(app, 'Dockerfile'), 'FROM scratch\nARG FLAVOUR=plain\nCOPY hello.txt /hello.txt\n');
    writeFileSync(join(app, 'hello.txt'), 'hello\n');
    const scan = await scanInputs({ contextDir: app, dockerfilePath: 'Dockerfile' });
    const inputs = inputsOf(scan, { buildArgs: {}, platforms: [hostPlatform()], labels: {}, annotations: {} });
    const listed = inputsListing(inputs, scan.context.entries).map((line) => `debug: inputs (build): ${line}`);
    expect(listed.join('\n')).toBe(block.replaceAll('"linux/amd64"', JSON.stringify(hostPlatform())));
  });
});

describe('the README test itself', () => {
  it('parses env, quotes and continuation lines', () => {
    expect(exampleCommands("CI=true A='x y' \\\n  bin/image-builder --tag='{{ .Branch }}' \"--name=a b\" # note")).toEqual([
      { env: { CI: 'true', A: 'x y' }, args: ['--tag={{ .Branch }}', '--name=a b'] },
    ]);
  });

  it('fails on a changed output line', () => {
    const example = EXAMPLES.find((e) => e.name === 'dry-run');
    expect(example).toBeDefined();
    const broken = example!.expected.replace('"mode": "build"', '"mode": "sign-only"');
    expect(normalise(broken)).not.toBe(normalise(example!.expected));
  });

  it('normalises what changes from run to run and nothing else', () => {
    expect(normalise('v20261208-5c4d7f8e sha256:08ac49d8…3e9e1 done in 0.7s 127.0.0.1:5101/dev')).toBe('v<YYYYMMDD>-5c4d7f8e sha256:<digest> done in <duration> 127.0.0.1:<port>/dev');
    expect(normalise('1 image pushed')).not.toBe(normalise('1 images pushed'));
  });
});

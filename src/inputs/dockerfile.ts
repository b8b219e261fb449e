import { Add, Arg, DockerfileParser, From, Label, ModifiableInstruction, type Instruction } from 'dockerfile-ast';
import { expandWord, type ExpandOptions } from './expand.js';

/** What a build unit gives the Dockerfile. */
export interface BuildSettings {
  buildArgs: Readonly<Record<string, string>>;
  target?: string;
  platforms: readonly string[];
  /** The user's --label values (not the ones this tool adds): they are part of the image. */
  labels?: Readonly<Record<string, string>>;
  /** The user's --annotation values. */
  annotations?: Readonly<Record<string, string>>;
  /** The ids of the build secrets a RUN may mount (--secret); their values never enter. */
  secrets?: readonly string[];
}

/** What the Dockerfile makes of them. */
export interface DockerfileInputs {
  /**
   * Each ARG the Dockerfile declares, with its effective value: the given one, else its default, else
   * (in a stage, redeclaring a global ARG) the global value; null when declared without a value and not given.
   * A default that names other variables is kept as written. When declarations of one name end with
   * different values, each is listed as `NAME@<stage>` (`NAME@global` for the one before the first FROM).
   */
  buildArgs: Record<string, string | null>;
  /** Images the build pulls: each FROM after ARG substitution, COPY --from and RUN --mount from= images; sorted, unique. */
  baseImages: string[];
  /** Set when a built stage fetches what no digest covers (ADD of a URL or git repository): why, in one line. */
  notReusable?: string;
}

/** Docker passes these to RUN when given, declared or not (they are left out of the image's history). */
export const PROXY_ARGS: readonly string[] = ['HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY'].flatMap((name) => [name, name.toLowerCase()]);

/** Automatic platform ARGs that depend on the machine that builds, not on the inputs: left unexpanded. */
const MACHINE_ARGS = ['BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT'];
const TARGET_ARGS = ['TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT'];

interface Stage {
  /** Lower-cased `AS` name: stage names are case-insensitive. */
  name?: string;
  from: From;
  instructions: Instruction[];
}

export function analyseDockerfile(text: string, settings: BuildSettings): DockerfileInputs {
  const dockerfile = DockerfileParser.parse(text);
  const escapeChar = dockerfile.getEscapeCharacter();
  const { globals, stages } = splitStages(dockerfile.getInstructions());
  const built = stagesBuilt(stages, settings.target);
  const given = (name: string): string | undefined => (Object.hasOwn(settings.buildArgs, name) ? settings.buildArgs[name] : undefined);

  // Declared values, one per declaration, for the digest and the dry-run.
  const declared: [scope: string, name: string, value: string | null][] = [];
  const globalValues = new Map<string, string | undefined>();
  for (const { name, raw } of properties(globals)) {
    const value = given(name) ?? (raw === null ? null : (expandWord(raw, globalValues, { unknown: 'abandon', escapeChar }) ?? raw));
    globalValues.set(name, value ?? undefined);
    declared.push(['global', name, value]);
  }
  built.forEach((stage, i) => {
    for (const { name, raw } of properties(stage.instructions.filter(isArg))) {
      const inherited = globalValues.has(name) ? (globalValues.get(name) ?? null) : null;
      const value = given(name) ?? (raw === null ? inherited : (expandWord(raw, new Map(), { unknown: 'abandon', escapeChar }) ?? raw));
      declared.push([stage.name ?? `#${i}`, name, value]);
    }
  });

  for (const name of PROXY_ARGS) {
    const value = given(name);
    if (value !== undefined && !declared.some(([, declaredName]) => declaredName === name)) declared.push(['global', name, value]);
  }

  const images = new Set<string>();
  const remote: RemoteAdd[] = [];
  for (const platform of settings.platforms.length > 0 ? settings.platforms : [undefined]) {
    const pulled = pulledImages(globals, built, stages, given, platform, escapeChar);
    for (const image of pulled.images) images.add(image);
    remote.push(...pulled.remote);
  }
  const first = remote.sort((a, b) => a.line - b.line)[0];
  return { buildArgs: argsRecord(declared), baseImages: [...images].sort(), ...(first ? { notReusable: notReusableReason(first) } : {}) };
}

/**
 * The label keys the built image gets from LABEL instructions: those of the target stage (else the last) and of the
 * earlier stages it is built FROM; a builder stage's labels never reach the image.
 */
export function dockerfileLabelKeys(text: string, target?: string): Set<string> {
  const { stages } = splitStages(DockerfileParser.parse(text).getInstructions());
  const keys = new Set<string>();
  const wanted = target ? stages.findIndex((stage) => stage.name === target.toLowerCase()) : -1;
  let at = wanted >= 0 ? wanted : stages.length - 1;
  for (const seen = new Set<number>(); at >= 0 && !seen.has(at); ) {
    seen.add(at);
    const stage = stages[at]!;
    for (const instruction of stage.instructions) if (instruction instanceof Label) for (const p of instruction.getProperties()) keys.add(p.getName());
    const parent = stage.from.getArguments()[0]?.getValue().toLowerCase();
    at = parent === undefined ? -1 : stages.slice(0, at).findIndex((s) => s.name === parent);
  }
  return keys;
}

function splitStages(instructions: Instruction[]): { globals: Arg[]; stages: Stage[] } {
  const globals: Arg[] = [];
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction instanceof From) {
      stages.push({ name: instruction.getBuildStage()?.toLowerCase() ?? undefined, from: instruction, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1]?.instructions.push(instruction);
    } else if (instruction instanceof Arg) {
      globals.push(instruction);
    }
  }
  return { globals, stages };
}

/** Stages after the target are never built (kaniko, BuildKit and buildah agree); an unknown target builds nothing we can trim. */
function stagesBuilt(stages: Stage[], target: string | undefined): Stage[] {
  if (!target) return stages;
  const last = stages.findIndex((stage) => stage.name === target.toLowerCase());
  return last < 0 ? stages : stages.slice(0, last + 1);
}

const isArg = (instruction: Instruction): instruction is Arg => instruction instanceof Arg;

function* properties(args: Arg[]): Generator<{ name: string; raw: string | null }> {
  for (const arg of args) for (const p of arg.getProperties()) yield { name: p.getName(), raw: p.getUnescapedValue() };
}

function argsRecord(declared: [string, string, string | null][]): Record<string, string | null> {
  const byName = new Map<string, [string, string | null][]>();
  for (const [scope, name, value] of declared) byName.set(name, [...(byName.get(name) ?? []), [scope, value]]);
  const entries: [string, string | null][] = [];
  for (const [name, values] of byName) {
    const first = values[0]?.[1] ?? null;
    if (values.every(([, value]) => value === first)) entries.push([name, first]);
    else for (const [scope, value] of values) entries.push([`${name}@${scope}`, value]);
  }
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The images one platform's build pulls: FROM lines (global scope), COPY --from and RUN --mount from= (stage scope); and what its ADDs fetch. */
function pulledImages(
  globals: Arg[],
  built: Stage[],
  all: Stage[],
  given: (name: string) => string | undefined,
  platform: string | undefined,
  escapeChar: string,
): { images: string[]; remote: RemoteAdd[] } {
  const automatic = platformArgs(platform);
  const opaque = new Set([...MACHINE_ARGS, ...(platform ? [] : TARGET_ARGS)]);
  const lenient: ExpandOptions = { unknown: 'empty', opaque, escapeChar };
  // BuildKit puts the automatic platform ARGs in the global scope, so FROM can use them undeclared.
  const globalScope = new Map<string, string | undefined>(automatic);
  for (const { name, raw } of properties(globals)) {
    const value = given(name) ?? (raw === null ? globalScope.get(name) : (expandWord(raw, globalScope, lenient) ?? raw));
    if (value !== undefined || !opaque.has(name)) globalScope.set(name, value);
  }
  const stageNames = new Set(all.flatMap((stage) => (stage.name ? [stage.name] : [])));
  const images: string[] = [];
  const remote: RemoteAdd[] = [];
  built.forEach((stage, i) => {
    const earlier = new Set(all.slice(0, i).flatMap((s) => (s.name ? [s.name] : [])));
    const raw = stage.from.getArguments()[0]?.getValue();
    const image = raw === undefined ? undefined : (expandWord(raw, globalScope, lenient) ?? raw);
    if (image !== undefined && !earlier.has(image.toLowerCase())) images.push(image);

    // Inside a stage only the ARGs it declares are variables (ENV too, which we cannot know: those keep their text).
    const stageScope = new Map<string, string | undefined>();
    for (const instruction of stage.instructions) {
      if (instruction instanceof Arg) {
        for (const { name, raw: rawDefault } of properties([instruction])) {
          const inherited = globalScope.has(name) ? globalScope.get(name) : automatic.get(name);
          const value = given(name) ?? (rawDefault === null ? inherited : expandWord(rawDefault, stageScope, { unknown: 'abandon', escapeChar }));
          if (value !== undefined || rawDefault !== null || !opaque.has(name)) stageScope.set(name, value ?? rawDefault ?? undefined);
        }
      }
      for (const ref of fromReferences(instruction)) {
        const image = expandWord(ref, stageScope, { unknown: 'abandon', escapeChar }) ?? ref;
        if (!/^\d+$/.test(image) && !stageNames.has(image.toLowerCase())) images.push(image);
      }
      if (instruction instanceof Add) remote.push(...remoteSources(instruction, stageScope, escapeChar));
    }
  });
  return { images: images.filter((image) => image.toLowerCase() !== 'scratch' && image !== ''), remote };
}

/** `COPY --from=<ref>` and `RUN --mount=…,from=<ref>`: a stage name, a stage index or an image. */
function fromReferences(instruction: Instruction): string[] {
  if (!(instruction instanceof ModifiableInstruction)) return [];
  const keyword = instruction.getKeyword();
  const refs: string[] = [];
  for (const flag of instruction.getFlags()) {
    const value = flag.getValue();
    if (keyword === 'COPY' && flag.getName() === 'from' && value) refs.push(value);
    if (keyword === 'RUN' && flag.getName() === 'mount') {
      const from = flag.getOptions().find((option) => option.getName() === 'from')?.getValue();
      if (from) refs.push(from);
    }
  }
  return refs;
}

function platformArgs(platform: string | undefined): Map<string, string> {
  if (!platform) return new Map();
  const [os = '', arch = '', variant = ''] = platform.split('/');
  return new Map([
    ['TARGETPLATFORM', platform],
    ['TARGETOS', os],
    ['TARGETARCH', arch],
    ['TARGETVARIANT', variant],
  ]);
}

/** An ADD source fetched from the network: its content is no input we can hash. */
interface RemoteAdd {
  /** 1-based. */
  line: number;
  source: string;
  kind: 'url' | 'git' | 'unknown';
}

/** The sources (every argument but the last) of an ADD that are URLs or git repositories, after ARG expansion. */
function remoteSources(add: Add, scope: Map<string, string | undefined>, escapeChar: string): RemoteAdd[] {
  const json = add.getJSONStrings().map((s) => s.getJSONValue());
  const words = json.length > 0 ? json : add.getArguments().map((a) => a.getValue());
  const line = add.getRange().start.line + 1;
  const found: RemoteAdd[] = [];
  for (const raw of words.slice(0, -1)) {
    const expanded = json.length > 0 ? raw : expandWord(raw, scope, { unknown: 'abandon', escapeChar });
    const source = expanded ?? raw;
    const kind = sourceKind(source);
    if (kind) found.push({ line, source, kind });
    // A variable we cannot resolve (ENV, the machine's) that starts the source may hold a whole URL.
    else if (expanded === undefined && /^["']?\$/.test(raw)) found.push({ line, source: raw, kind: 'unknown' });
  }
  return found;
}

/** As BuildKit tells them apart: a git repository, a URL, or (undefined) a path in the context. */
function sourceKind(source: string): RemoteAdd['kind'] | undefined {
  if (/^(git@|git:\/\/|ssh:\/\/|github\.com\/)/i.test(source)) return 'git';
  if (/^https?:\/\//i.test(source)) return /\.git(#.*)?$/i.test(source) ? 'git' : 'url';
  return undefined;
}

function notReusableReason({ line, source, kind }: RemoteAdd): string {
  const what =
    kind === 'git'
      ? 'clones the git repository'
      : kind === 'url'
        ? 'downloads'
        : 'fetches a source named by a variable we cannot resolve, possibly a URL:';
  return `line ${line} of the Dockerfile: ADD ${what} ${source}, whose content the inputs digest cannot cover: not reused, built every time`;
}

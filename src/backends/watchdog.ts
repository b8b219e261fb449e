/**
 * Builders run in process groups of their own (so that a stop reaches what they started); nothing would stop them
 * if this process died uncleanly (SIGKILL, OOM killer). A watchdog does: a tiny node process in a group of its own
 * that holds a pipe from us and, when the pipe closes (which the kernel does when we die, however we die), stops
 * every builder group still registered on it. It costs one process per run, started with the first builder.
 *
 * A group is not all a builder starts: a process can move to a session of its own (setsid, a double fork) and then
 * only its ancestors know it. So each builder runs under a keeper: a few lines of perl (perl-base is in every Debian
 * and Ubuntu image) that become a child subreaper (prctl; no privilege needed, unlike a PID namespace or a cgroup),
 * so that every orphan of the builder's tree is re-parented to it instead of to init. When the builder exits, or on
 * SIGUSR1, it kills its children until it has none: the whole tree, whatever its sessions, and only it (a child's pid
 * cannot be reused before its parent reaps it). Without perl or prctl, builders run as before: groups only.
 */
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { constants } from 'node:os';

/** How long the watchdog gives the groups between SIGTERM and SIGKILL. */
export const WATCHDOG_GRACE_MS = 2000;
/** How long a keeper gets to kill its tree, after SIGUSR1, before its group is SIGKILLed (the keeper with it). */
export const KEEPER_FINISH_MS = 2000;

// Lines on stdin: "<pgid>" registers a group, "<pgid> <start time>" one led by a keeper, "-<pgid>" forgets it.
// SIGINT/SIGTERM/SIGHUP sent to our group or a terminal's must not end the watch: only the end of the pipe does.
const SCRIPT = `
const { readFileSync } = require('node:fs');
const groups = new Map();
let rest = '';
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
process.stdin.setEncoding('latin1');
process.stdin.on('data', (text) => {
  const lines = (rest + text).split('\\n');
  rest = lines.pop();
  for (const line of lines) {
    const [group, start] = line.split(' ');
    if (group[0] === '-') groups.delete(group.slice(1)); else if (group) groups.set(group, start);
  }
});
const send = (g, sig) => {
  try { process.kill(-Number(g), sig); } catch { groups.delete(g); }
};
// The keeper leads its group; its start time tells it from a process that got its pid later.
const startOf = (pid) => {
  try { const stat = readFileSync('/proc/' + pid + '/stat', 'latin1'); return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]; } catch { return undefined; }
};
const stop = () => {
  for (const g of [...groups.keys()]) send(g, 'SIGTERM');
  let deadline = Date.now() + ${WATCHDOG_GRACE_MS};
  let finishing = false;
  const check = () => {
    for (const g of [...groups.keys()]) send(g, 0);
    if (groups.size > 0 && Date.now() >= deadline && !finishing) {
      // A keeper kills its whole tree, the processes that left the group included; a SIGKILL would end it first.
      finishing = true;
      deadline = Date.now() + ${KEEPER_FINISH_MS};
      for (const [g, start] of groups) {
        if (start && startOf(g) === start) process.kill(Number(g), 'SIGUSR1'); else send(g, 'SIGKILL');
      }
    }
    if (groups.size === 0 || Date.now() >= deadline) {
      for (const g of [...groups.keys()]) send(g, 'SIGKILL');
      process.exit(0);
    }
    setTimeout(check, 50);
  };
  check();
};
process.stdin.on('end', stop);
process.stdin.on('error', stop);
`;

/**
 * The keeper: perl -e KEEPER -- <prctl syscall number> <file> <args…>. The builder's environment comes on stdin
 * (NUL-separated, so that none of it is on a command line and perl itself runs with none). fd 3 says "degraded
 * <why>" when it cannot be a subreaper, and "exec <errno>" when the builder could not start; it is closed at the
 * builder's exec. Exit: the builder's status (its signal re-raised).
 */
const KEEPER = String.raw`
my ($nr, @argv) = @ARGV;
$0 = "image-builder keeper of $argv[0]"; # in ps, instead of this script
open my $status, '>&=', 3 or exit 126;
fcntl $status, 2, 1; # F_SETFD FD_CLOEXEC: the builder does not get the channel
select((select($status), $| = 1)[0]);
{ local $/; my $env = <STDIN> // ''; %ENV = map { /^([^=]*)=(.*)$/s ? ($1, $2) : () } split /\0/, $env; }
open STDIN, '<', '/dev/null';
my $reaper = $nr > 0 && syscall($nr, 36, 1, 0, 0, 0) == 0; # PR_SET_CHILD_SUBREAPER
print $status 'degraded ', ($nr > 0 ? "prctl: $!" : 'no prctl number for this architecture'), "\n" unless $reaper;
# Signals for the builder reach us too (one group): only SIGUSR1 (kill the tree now) is for us.
$SIG{$_} = 'IGNORE' for qw(TERM INT HUP);
my ($hard, $waiting, $code);
$SIG{USR1} = sub { $hard = 1; die "stop\n" if $waiting };
my $builder = fork;
if (!defined $builder) { print $status 'exec ', $! + 0, "\n"; exit 127 }
if (!$builder) {
  $SIG{$_} = 'DEFAULT' for qw(TERM INT HUP USR1);
  exec { $argv[0] } @argv;
  print $status 'exec ', $! + 0, "\n";
  exit 127;
}
close $status;
# Reaps the orphans re-parented to us while the builder runs, until it exits or SIGUSR1 comes.
eval {
  for (;;) {
    $waiting = 1;
    last if $hard;
    my $pid = waitpid -1, 0;
    $waiting = 0;
    last if $pid < 0;
    if ($pid == $builder) { $code = $?; last }
  }
};
$waiting = 0;
sub children {
  my @pids;
  opendir my $proc, '/proc' or return;
  for (grep /^\d+$/, readdir $proc) {
    open my $f, '<', "/proc/$_/stat" or next;
    my $stat = <$f> // next;
    push @pids, $_ if (split / /, substr($stat, rindex($stat, ')') + 2))[1] == $$;
  }
  @pids;
}
if ($reaper) {
  # Every descendant comes back to us as its parent dies: kill our children until we have none (bounded: a process
  # stuck in the kernel must not hold the run).
  for (my $end = time + 5;;) {
    my $pid = waitpid -1, 1; # WNOHANG
    if ($pid > 0) { $code = $? if $pid == $builder && !defined $code; next }
    last if $pid < 0 || time > $end;
    kill 'KILL', children();
    select undef, undef, undef, 0.02;
  }
} elsif ($hard) {
  kill 'KILL', -$$;
}
$SIG{$_} = 'DEFAULT' for qw(TERM INT HUP USR1);
kill 'KILL', $$ unless defined $code;
kill $code & 127, $$ if $code & 127;
exit $code >> 8;
`;

/** prctl's number, where we know it; elsewhere the keeper runs degraded. */
const PRCTL: Partial<Record<NodeJS.Architecture, number>> = { x64: 157, arm64: 167, riscv64: 167, loong64: 167, arm: 172, ia32: 172, s390x: 172, ppc64: 171 };

let watchdog: ChildProcess | undefined;
let perl: string | null | undefined;

function start(): ChildProcess | undefined {
  const { spawn } = process.getBuiltinModule('node:child_process');
  try {
    // No environment: NODE_OPTIONS meant for the user's tools must not reach it. cwd /: it must not hold a mount busy.
    const child = spawn(process.execPath, ['--max-old-space-size=16', '-e', SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true, env: {}, cwd: '/' });
    // If it cannot run, builders still do; only the SIGKILL guarantee is lost.
    child.on('error', () => (watchdog = undefined));
    child.stdin?.on('error', () => undefined);
    // It must never keep this process alive: it ends by itself when our end of the pipe closes at exit.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  } catch {
    return undefined;
  }
}

/** Starts the watchdog if it is not running: call it before spawning, so that registering is one write. */
export function startWatchdog(): void {
  watchdog ??= start();
}

/**
 * Puts a builder's process group under the watchdog until forgetGroup; keeperStart (the keeper's start time, from
 * /proc) says the group is led by a keeper, to be asked to kill its tree instead of being SIGKILLed.
 */
export function watchGroup(pgid: number, keeperStart?: string): void {
  watchdog?.stdin?.write(keeperStart === undefined ? `${pgid}\n` : `${pgid} ${keeperStart}\n`);
}

export function forgetGroup(pgid: number): void {
  watchdog?.stdin?.write(`-${pgid}\n`);
}

/** How to spawn a builder: under a keeper, or (no perl here) directly, with why for the debug log. */
export type Launch = { keeper: true; file: string; args: string[]; input: Buffer } | { keeper: false; why: string };

/** The keeper's argv for `file args`, with the builder's environment to write on its stdin. */
export function launch(file: string, args: string[], env: Record<string, string | undefined>): Launch {
  perl ??= ['/usr/bin/perl', '/bin/perl'].find(executable) ?? null;
  if (perl === null) return { keeper: false, why: 'no /usr/bin/perl' };
  const input = Buffer.from(Object.entries(env).flatMap(([name, value]) => (value === undefined ? [] : [`${name}=${value}\0`])).join(''));
  return { keeper: true, file: perl, args: ['-e', KEEPER, '--', String(PRCTL[process.arch] ?? 0), file, ...args], input };
}

function executable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** What a keeper said on fd 3: that it runs without a subreaper, and the error of the builder's exec, if any. */
export function keeperReport(text: string): { degraded?: string; execError?: string } {
  const degraded = /^degraded (.*)$/m.exec(text)?.[1];
  const errno = /^exec (\d+)$/m.exec(text)?.[1];
  const execError = errno === undefined ? undefined : (Object.entries(constants.errno).find(([, n]) => n === Number(errno))?.[0] ?? `errno ${errno}`);
  return { ...(degraded === undefined ? {} : { degraded }), ...(execError === undefined ? {} : { execError }) };
}

/** The keeper's start time (field 22 of /proc/<pid>/stat); read while it is our unreaped child, so it is the keeper's. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

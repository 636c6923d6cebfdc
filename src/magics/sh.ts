/**
 * Shell commands: `!cmd` lines, the %%sh cell magic, and %sx (`x = !cmd`, `!!cmd`), which
 * captures the output lines. `{expr}` and `$name` are expanded first (interpolate.ts). Output
 * streams into the cell as it is produced. Each command runs in its own process group, so an interrupt or a kernel shutdown
 * stops it together with everything it started (GNU parallel's jobs, xargs -P children).
 */
import { spawn } from 'node:child_process';
import { expandCommand } from './interpolate.js';
import { UsageError, type MagicContext, type MagicSpec } from './types.js';
import { UserFacingError } from '../util/user-facing.js';
import { currentContext, defineSlot, type ProcessContext } from '../util/process-context.js';

export interface ShellOptions {
  readonly cwd: string;
  readonly signal: AbortSignal;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export class ShellCommandError extends UserFacingError {
  override readonly name = 'ShellCommandError';
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly signalName: string | null,
  ) {
    super(
      exitCode !== null
        ? `command exited with code ${exitCode}: ${firstLine(command)}`
        : `command was killed by ${signalName}: ${firstLine(command)}`,
    );
  }
}

const kKillGraceMs = 1000;
/** After bash exits, how long to wait for the rest of its output before the cell moves on. */
const kTrailingOutputMs = 200;
/** Process groups of the commands still running, per process context (disposing it ends them). */
const kShellJobs = defineSlot(
  'magics.shellJobs',
  () => new Set<number>(),
  (running) => {
    for (const pid of running) killGroup(pid);
  },
);

/** Runs `command` with bash; resolves with its exit code (or the signal that ended it). */
export function runShell(command: string, options: ShellOptions): Promise<{ code: number | null; signal: string | null }> {
  const running = currentContext().get(kShellJobs);
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/bash', ['-c', command], {
      cwd: options.cwd,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    child.stdout.setEncoding('utf8').on('data', options.stdout);
    child.stderr.setEncoding('utf8').on('data', options.stderr);
    const stop = () => killGroup(pid);
    options.signal.addEventListener('abort', stop, { once: true });
    child.once('error', (err) => {
      options.signal.removeEventListener('abort', stop);
      reject(err);
    });
    // The command is done when bash exits. A job it left in the background (`cmd &`) keeps the
    // pipes open: its output still streams, and its group stays tracked so shutdown ends it.
    child.once('exit', (code, signal) => {
      options.signal.removeEventListener('abort', stop);
      const done = () => resolve({ code, signal });
      const grace = setTimeout(done, kTrailingOutputMs);
      child.once('close', () => {
        clearTimeout(grace);
        done();
      });
    });
    child.once('close', () => {
      if (pid !== undefined) running.delete(pid);
    });
  });
}

/** Stops every command still running (kernel shutdown). */
export function stopAllShells(context: ProcessContext = currentContext()): void {
  for (const pid of context.peek(kShellJobs) ?? []) killGroup(pid);
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* ended after SIGTERM */
    }
  }, kKillGraceMs).unref();
}

function firstLine(command: string): string {
  const line = command.trim().split('\n')[0];
  return line.length > 80 ? line.slice(0, 77) + '...' : line;
}

export const shCell: MagicSpec = {
  name: 'sh',
  kind: 'cell',
  description:
    'Run the cell as a bash script, streaming its output. A non-zero exit fails the cell with the exit code (use --no-raise to only report it). ' +
    'As in !cmd lines, {expr} is replaced by the value of a TypeScript expression and $name by a notebook variable; {{, }} and $$name give {, } and $name, and what is not a notebook name ($HOME, {} of xargs) is left to the shell.',
  examples: ['%%sh\nseq 8 | xargs -P 4 -I{} echo job {}', '%%sh\necho "n = $n, twice: {2 * n}, home: $HOME"'],
  args: [{ kind: 'flag', name: 'no-raise', dest: 'noRaise', help: 'Report a non-zero exit code without failing the cell.' }],
  bodyHolds: 'the script',
  handler: async (ctx) => {
    const script = await expandCommand(ctx.body, ctx);
    const { code, signal } = await runShell(script, { cwd: ctx.cwd, signal: ctx.signal, stdout: ctx.stdout, stderr: ctx.stderr });
    if (ctx.signal.aborted) return undefined;
    if (code !== 0) {
      if (ctx.args.noRaise) ctx.stderr(`[exit code ${code ?? signal}]\n`);
      else throw new ShellCommandError(ctx.body, code, signal);
    }
    return undefined;
  },
};

/** `!cmd`: not a registered magic (IPython's `!` is not either), run through the same context. */
export const shellLine: MagicSpec = {
  name: 'shell',
  kind: 'line',
  description: 'Run a shell command, streaming its output; a non-zero exit code is reported, the cell goes on.',
  args: [],
  handler: async (ctx) => {
    const command = await expandCommand(ctx.line, ctx);
    const { code } = await runShell(command, { cwd: ctx.cwd, signal: ctx.signal, stdout: ctx.stdout, stderr: ctx.stderr });
    if (!ctx.signal.aborted && code !== 0) ctx.stderr(`[command exited with code ${code ?? 'a signal'}: ${ctx.line}]\n`);
    return undefined;
  },
};

/** The output of a command (stdout and stderr, in order) as lines, without the final newline's empty line. */
async function captureLines(ctx: MagicContext): Promise<string[]> {
  const command = String(ctx.args.command ?? '').trim();
  if (!command) throw new UsageError(`%${ctx.spec.name} needs a command, e.g. files = !ls or %${ctx.spec.name} ls`);
  let text = '';
  const collect = (t: string) => {
    text += t;
  };
  await runShell(`exec 2>&1\n${await expandCommand(command, ctx)}`, { cwd: ctx.cwd, signal: ctx.signal, stdout: collect, stderr: collect });
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export const sxLine: MagicSpec = {
  name: 'sx',
  kind: 'line',
  description:
    'Run a shell command and return its output lines (stdout and stderr) as a string array, as IPython\'s %sx. ' +
    '`x = !cmd` stores them in x and `!!cmd` shows them; {expr} and $name are expanded as in !cmd. ' +
    'In TypeScript `x = !y` is also a negation: it stays one when y is a name the notebook knows.',
  examples: ['const files = !ls *.ts', 'const cores = !nproc', '!!git log --oneline -3', 'lines = %sx grep -c processor /proc/cpuinfo'],
  args: [{ kind: 'rest', name: 'command', help: 'a shell command, e.g. %sx ls' }],
  resultType: 'string[]',
  handler: captureLines,
};

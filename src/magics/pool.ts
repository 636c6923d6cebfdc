/**
 * %pool: the notebook's worker pool. Starts it (bound to `pool`, or --name), resizes or
 * replaces it, shows its status, closes it. Cells then call `await pool.map(f, xs)`; functions
 * of earlier cells ship automatically (the pool gets the notebook's definitions). The pool
 * lives across cells and is closed when the kernel shuts down; long calls show a progress
 * display that updates in place.
 */
import { kToMimeBundle, type DisplayHandle, type MimeBundle } from '../display/types.js';
import { formatProgress, type ProgressCallback, type ProgressReport } from '../pool/progress.js';
import { isProgressAfter, kDefaultPoolOptions, kProgressAfterRule, type Backend } from '../pool/options.js';
import { Pool } from '../pool/pool.js';
import { UsageError, type ArgumentSpec, type MagicContext, type MagicSpec } from './types.js';

const kPoolType = 'import("tslab-parallel").Pool';

const poolArgs: readonly ArgumentSpec[] = [
  {
    kind: 'positional',
    name: 'workers',
    type: 'integer',
    optional: true,
    min: 1,
    metavar: 'N',
    help: 'number of workers (default: the number of CPU cores); on a running pool, resizes it.',
  },
  { kind: 'flag', name: 'threads', dest: 'backend', value: 'threads', help: 'workers are threads of the kernel (default; shared memory, fast to start).' },
  {
    kind: 'flag',
    name: 'processes',
    dest: 'backend',
    value: 'processes',
    help: 'workers are child processes (one pid each); switching backend replaces the pool.',
  },
  {
    kind: 'option',
    name: 'name',
    type: 'string',
    default: 'pool',
    metavar: 'NAME',
    pattern: { regex: /^[A-Za-z_$][\w$]*$/, expected: 'a variable name', fix: 'e.g. %pool --name workers 4' },
    help: 'the notebook variable the pool is bound to.',
  },
  {
    kind: 'option',
    name: 'progress-after',
    dest: 'progressAfter',
    type: 'number',
    min: -1,
    metavar: 'S',
    help: 'calls running longer than S seconds show a progress display (default 2; -1: never).',
  },
  { kind: 'flag', name: 'close', help: 'close the pool (its workers exit) and remove the variable.' },
];

/** One pool per variable name, for the kernel's lifetime. */
interface Entry {
  pool: Pool;
}

export const poolLine: MagicSpec = {
  name: 'pool',
  kind: 'line',
  description:
    "Start, resize, show or close the notebook's worker pool. " +
    '`%pool 4` starts 4 workers bound to `pool` (threads by default; --processes for child processes), ' +
    'or resizes the running pool; `%pool` alone shows its status; `%pool --close` stops it. ' +
    'Cells then run `await pool.map(f, xs)`, `pool.imap(...)`, `pool.starmap(...)`, `pool.apply(f, ...args)` or ' +
    '`pool.submit(f, ...args)`; functions defined in earlier cells are sent to the workers with what they use. ' +
    "Python's options: `new Pool({ initializer, initargs, maxTasksPerChild })` from 'tslab-parallel' (the initializer " +
    'runs once in every worker, replacements too; if it throws the pool is broken), a call option `{ timeout: S }` ' +
    '(fails naming the input still running and replaces its worker; `pool.with({ timeout: S }).apply(...)`), ' +
    "`await future.result(S)`, and `await wait(futures, 'FIRST_COMPLETED' | 'FIRST_EXCEPTION' | 'ALL_COMPLETED', S?)` " +
    'giving `{ done, notDone }`.',
  examples: [
    '%pool 4',
    '%pool 8 --processes',
    'squares = await pool.map(square, [1, 2, 3])',
    'await pool.map(work, xs, { timeout: 10 })',
    "const { done, notDone } = await wait(futures, 'FIRST_COMPLETED')",
    '%pool',
    '%pool --name workers 2 --progress-after 5',
    '%pool --close',
  ],
  args: poolArgs,
  handler: runPoolMagic,
};

async function runPoolMagic(ctx: MagicContext): Promise<undefined> {
  const pools = ctx.state('pools', () => new Map<string, Entry>());
  const name = ctx.args.name as string;
  const workers = ctx.args.workers as number | undefined;
  const backend = ctx.args.backend as Backend | undefined;
  const progressAfter = ctx.args.progressAfter as number | undefined;
  if (progressAfter !== undefined && !isProgressAfter(progressAfter)) {
    throw new UsageError(`%pool: --progress-after must be ${kProgressAfterRule}; got ${progressAfter}`);
  }
  const entry = pools.get(name);

  if (ctx.args.close) {
    if (workers !== undefined || backend !== undefined) throw new UsageError('%pool: --close takes no other arguments (e.g. %pool --close)');
    if (!entry) {
      ctx.stdout(`${name}: no pool is running (start one with %pool${name === 'pool' ? '' : ` --name ${name}`} N)\n`);
      return undefined;
    }
    pools.delete(name);
    await entry.pool.close();
    ctx.deleteVariable(name);
    ctx.stdout(`${name}: closed\n`);
    return undefined;
  }

  if (!entry && workers === undefined && backend === undefined && progressAfter === undefined) {
    ctx.stdout(`${name}: no pool is running; start one with %pool [N] [--threads | --processes]\n`);
    return undefined;
  }
  if (entry && workers === undefined && backend === undefined && progressAfter === undefined) {
    ctx.stdout(`${entry.pool.toString()}\n`);
    return undefined;
  }

  if (entry && backend !== undefined && backend !== entry.pool.backend) {
    // Another kind of worker: replace the pool (calls in flight are cancelled by close()).
    await entry.pool.close();
    entry.pool = startPool(ctx, name, workers ?? entry.pool.workers, backend, progressAfter ?? entry.pool.progressAfter);
  } else if (entry) {
    if (workers !== undefined && workers !== entry.pool.workers) await entry.pool.resize(workers);
    if (progressAfter !== undefined) entry.pool.progressAfter = progressAfter;
  } else {
    const created: Entry = {
      pool: startPool(ctx, name, workers ?? kDefaultPoolOptions.workers, backend ?? kDefaultPoolOptions.backend, progressAfter ?? kDefaultPoolOptions.progressAfter),
    };
    pools.set(name, created);
    ctx.onShutdown(async () => {
      if (pools.get(name) === created) pools.delete(name);
      await created.pool.close();
    });
  }
  const current = pools.get(name) as Entry;
  ctx.setVariable(name, current.pool, kPoolType);
  await current.pool.ready();
  ctx.stdout(`${current.pool.toString()}\n`);
  return undefined;
}

function startPool(ctx: MagicContext, name: string, workers: number, backend: Backend, progressAfter: number): Pool {
  return new Pool({
    name,
    workers,
    backend,
    progressAfter,
    definitions: ctx.definitions,
    cwd: ctx.cwd,
    onProgress: progressDisplay(ctx),
    // Task output goes to process.stdout/stderr (the default), which the kernel routes to the running cell.
  });
}

/** Renders each long call's progress as one display, updated in place. */
function progressDisplay(ctx: MagicContext): ProgressCallback {
  const handles = new Map<number, DisplayHandle>();
  return (report) => {
    const view = new ProgressView(report);
    const handle = handles.get(report.call);
    if (handle) handle.update(view);
    else handles.set(report.call, ctx.displayBundle(view[kToMimeBundle]()));
    if (report.finished) handles.delete(report.call);
  };
}

/** A progress report as a bar (HTML) and a line of text. */
class ProgressView {
  constructor(private readonly report: ProgressReport) {}

  [kToMimeBundle](): MimeBundle {
    const r = this.report;
    const text = formatProgress(r);
    const color = r.outcome === 'failed' ? '#d9534f' : r.outcome === 'cancelled' ? '#f0ad4e' : '#5cb85c';
    const html =
      `<div style="font-family: monospace"><progress value="${r.done}" max="${Math.max(1, r.total)}" ` +
      `style="width: 20em; accent-color: ${color}"></progress> ${escapeHtml(text)}</div>`;
    return { 'text/plain': text, 'text/html': html };
  }
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

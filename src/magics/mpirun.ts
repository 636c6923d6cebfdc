/**
 * %%mpirun / %mpirun: run a cell (or a script file) as N message-passing ranks, mpi4py style.
 * Every rank has `comm`, `rank` and `size` in scope; output is prefixed `[rank k]`; an error
 * on any rank stops all of them and is reported with its rank; `--out NAME` brings rank 0's
 * NAME back into the notebook (`NAME@all`: a list of every rank's). Without -np a cell runs on
 * the notebook's session (%mpirun --session; mpirun-session.ts), whose ranks keep their state.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { prefixLines, runRanks, runScript, type LaunchBackend, type RunRanksOptions } from '../comm/index.js';
import { splitArgs } from '../comm/mpi/launcher-command.js';
import { ship } from '../ship/index.js';
import { RankSession } from '../comm/session/index.js';
import { tokenize } from './args.js';
import { showRankTimeline, tracedRankSource } from './mpirun-timeline.js';
import { parseRankCounts, runRankScaling, timedRankSource } from './mpirun-scaling.js';
import { describeSession, kSessionScope, runSessionCell, sessionSlot, startSession, typeOf, type CellData } from './mpirun-session.js';
import { UsageError, type ArgumentSpec, type MagicContext, type MagicSpec } from './types.js';

/** Options both forms share: how many ranks, on what, for how long. */
const runArgs: readonly ArgumentSpec[] = [
  {
    kind: 'option',
    name: 'np',
    aliases: ['np', 'n'],
    type: 'string',
    metavar: 'N',
    help: 'number of ranks of a one-off world (with --scaling: a list, e.g. 1,2,4); without it, a %%mpirun cell runs on the open %mpirun session.',
  },
  {
    kind: 'option',
    name: 'backend',
    type: 'string',
    choices: ['threads', 'processes', 'mpi'],
    default: 'threads',
    help:
      'threads: worker threads sharing memory (default, fastest); processes: one child process per rank ' +
      '(small messages through shared memory when npm run build:shm has built its addon, else sockets only); ' +
      'mpi: Open MPI, one process per rank started by a real mpirun (needs npm run build:mpi; see docs/mpi.md).',
  },
  { kind: 'option', name: 'hostfile', type: 'string', metavar: 'FILE', help: 'with --backend mpi: the hosts to run the ranks on (mpirun --hostfile).' },
  {
    kind: 'option',
    name: 'mpirun-args',
    type: 'string',
    metavar: '"ARGS"',
    help: 'with --backend mpi: more arguments for mpirun, quoted, e.g. --mpirun-args "--bind-to none".',
  },
  {
    kind: 'option',
    name: 'timeout',
    type: 'number',
    min: 0,
    default: 10,
    metavar: 'S',
    help: 'seconds all ranks may wait in communication before the run is stopped as a deadlock (0: never).',
  },
];

const outArg: ArgumentSpec = {
  kind: 'option',
  name: 'out',
  type: 'string',
  repeatable: true,
  metavar: 'NAME[@all]',
  pattern: { regex: /^[A-Za-z_$][\w$]*(@all)?$/, expected: 'a variable name', fix: "use --out NAME (rank 0's value) or --out NAME@all (every rank's)" },
  help: "bring a variable back into the notebook: rank 0's value, or with @all a list of every rank's.",
};

const timelineArgs: readonly ArgumentSpec[] = [
  {
    kind: 'flag',
    name: 'timeline',
    help: 'trace every rank (one-off worlds and session cells): compute and waiting per rank, a line from each send to its receive, the communication matrix, a per-rank table.',
  },
  { kind: 'option', name: 'timeline-out', type: 'string', metavar: 'NAME', help: 'with --timeline: bind the traced records (a CommTimeline) to NAME.' },
  {
    kind: 'flag',
    name: 'scaling',
    help: "run the cell at each rank count of -np 1,2,4 (1 included) and draw speed-up against the ideal, Amdahl's fit and the machine's ceiling, from the ranks' wall time.",
  },
  { kind: 'option', name: 'repeat', type: 'integer', min: 1, default: 1, metavar: 'R', help: 'with --scaling: runs at each count, the best kept.' },
];

const nameList = (name: string, help: string): ArgumentSpec => ({ kind: 'option', name, type: 'string', repeatable: true, metavar: 'NAME', help });

/** Data between the notebook and the ranks, and how output is shown. */
const dataArgs: readonly ArgumentSpec[] = [
  nameList('in', 'send a notebook variable to every rank before the cell runs (typed arrays are copied).'),
  nameList('scatter', 'split a notebook array or typed array into contiguous chunks, rank r getting chunk r (the first ranks one longer).'),
  nameList('gather', "join every rank's array or typed array, in rank order, into the notebook variable of that name."),
  {
    kind: 'option',
    name: 'group-outputs',
    type: 'string',
    choices: ['order', 'rank'],
    default: 'order',
    help: "order: lines as they come (default); rank: each rank's output together, in rank order, when the cell ends.",
  },
];

const sessionArgs: readonly ArgumentSpec[] = [
  { kind: 'flag', name: 'session', help: 'start the notebook\'s rank session with -np N (closing an open one); %%mpirun cells without -np then run on it.' },
  { kind: 'flag', name: 'close', help: 'close the session: every rank stops.' },
];

const kRankParams = ['comm', 'rank', 'size'] as const;
const kRankTypes = { comm: 'import("tslab-parallel").Communicator', rank: 'number', size: 'number' } as const;

interface Out {
  readonly name: string;
  readonly all: boolean;
}

function parseOuts(values: unknown): Out[] {
  // --out's pattern has checked each value.
  return ((values as string[] | undefined) ?? []).map((v) => ({ name: v.replace(/@all$/, ''), all: v.endsWith('@all') }));
}

function runOptions(ctx: MagicContext): Pick<RunRanksOptions, 'np' | 'backend' | 'timeout' | 'signal' | 'cwd' | 'onOutput' | 'mpi'> {
  return {
    np: rankCount(ctx),
    backend: ctx.args.backend as LaunchBackend,
    mpi: mpiOptions(ctx),
    timeout: ctx.args.timeout as number,
    signal: ctx.signal,
    cwd: ctx.cwd,
    onOutput: (rank, stream, text) => ctx[stream](prefixLines(rank, text)),
  };
}

/** The one rank count of -np (a list only goes with --scaling). */
function rankCount(ctx: MagicContext): number {
  const counts = parseRankCounts(String(ctx.args.np));
  if (counts.length > 1 && ctx.args.scaling !== true) {
    throw new UsageError(`%%mpirun: -np ${String(ctx.args.np)} lists several rank counts; add --scaling to run the cell at each (e.g. %%mpirun -np 1,2,4 --scaling)`);
  }
  return counts.at(-1)!;
}

/** --hostfile and --mpirun-args, for --backend mpi only. */
function mpiOptions(ctx: MagicContext): RunRanksOptions['mpi'] {
  const hostfile = ctx.args.hostfile as string | undefined;
  const extra = ctx.args['mpirun-args'] as string | undefined;
  if (ctx.args.backend !== 'mpi') {
    if (hostfile !== undefined || extra !== undefined) throw new UsageError('%%mpirun: --hostfile and --mpirun-args go with --backend mpi (e.g. %%mpirun -np 4 --backend mpi --hostfile hosts)');
    return undefined;
  }
  let mpirunArgs: string[] = [];
  try {
    mpirunArgs = splitArgs(extra ?? '');
  } catch (err) {
    throw new UsageError(`%%mpirun: ${(err as Error).message}`);
  }
  return { hostfile: hostfile === undefined ? undefined : path.resolve(ctx.cwd, hostfile), mpirunArgs };
}

async function runCell(ctx: MagicContext): Promise<undefined> {
  const timelineOut = ctx.args['timeline-out'] as string | undefined;
  const timeline = ctx.args.timeline === true || timelineOut !== undefined;
  const scaling = ctx.args.scaling === true;
  const outs = parseOuts(ctx.args.out);
  const data: CellData = { ins: nameArgs(ctx, 'in'), scatters: nameArgs(ctx, 'scatter'), gathers: nameArgs(ctx, 'gather'), outs };
  const timeout = ctx.args.timeout as number;
  if (scaling && (ctx.args.np === undefined || data.ins.length + data.scatters.length + data.gathers.length > 0)) {
    throw new UsageError('%%mpirun: --scaling runs one-off worlds without --in, --scatter or --gather; give the rank counts (e.g. %%mpirun -np 1,2,4 --scaling)');
  }
  if (timelineOut !== undefined && !/^[A-Za-z_$][\w$]*$/.test(timelineOut)) throw new UsageError(`%%mpirun: --timeline-out ${timelineOut} is not a variable name; use e.g. --timeline-out tl`);
  if (scaling && timeline) throw new UsageError('%%mpirun: --scaling and --timeline cannot be used together; trace one rank count with --timeline, then measure with --scaling');
  const traced = timeline ? { out: timelineOut } : undefined;
  if (ctx.args.np === undefined) {
    const slot = sessionSlot(ctx);
    if (!slot.session) {
      throw new UsageError('%%mpirun: no %mpirun session is open; start one with %mpirun --session -np 4, or give -np N to run this cell as a one-off world');
    }
    if (!slot.session.open) throw new UsageError(`%%mpirun: ${describeSession(slot.session).trim()}`);
    await runSessionCell(ctx, slot, slot.session, data, timeout, traced);
    return undefined;
  }
  const options = runOptions(ctx); // checks the options before the cell is compiled
  if (data.ins.length + data.scatters.length + data.gathers.length > 0) {
    // Data options need a rank loop that takes values in and out: a session of one cell.
    const once = await RankSession.start({ np: options.np, backend: options.backend!, mpi: options.mpi, cwd: ctx.cwd });
    try {
      await runSessionCell(ctx, { session: once, scope: kSessionScope }, once, data, timeout, traced);
    } finally {
      await once.close();
    }
    return undefined;
  }
  const names = [...new Set(outs.map((o) => o.name))];
  // Ranks hand --out variables back by returning them; the return goes after the last line,
  // so the cell's line numbers stay as they are.
  const source = timeline
    ? tracedRankSource(ctx.body, names)
    : scaling
      ? timedRankSource(ctx.body, names)
      : names.length > 0 ? `${ctx.body}\nreturn { ${names.join(', ')} };` : ctx.body;
  const lineOffset = ctx.bodyLine - 1 - (timeline || scaling ? 1 : 0); // those sources have one line in front
  const compiled = await ctx.compileForShipping(source, { params: kRankParams, paramTypes: kRankTypes, lineOffset });
  const shipment = ship({ rank: { ...compiled, provided: compiled.provided ?? kRankParams } }, { definitions: ctx.definitions, cwd: ctx.cwd });
  const run = (np: number) => runRanks<Record<string, unknown> | undefined>({ ...options, np, shipment });
  const values = scaling ? await runRankScaling(ctx, parseRankCounts(String(ctx.args.np)), ctx.args.repeat as number, run) : await run(options.np);
  if (timeline) showRankTimeline(ctx, values, timelineOut);
  for (const { name, all } of outs) {
    const value = all ? values.map((v) => v?.[name]) : values[0]?.[name];
    ctx.setVariable(name, value, all ? `${typeOf(values[0]?.[name])}[]` : typeOf(value));
  }
  return undefined;
}

/** %mpirun: a script file as N ranks; or, with --session / --close / nothing, the session. */
async function runLine(ctx: MagicContext): Promise<undefined> {
  const slot = sessionSlot(ctx);
  const command = String(ctx.args.command ?? '').trim();
  if (ctx.args.session || ctx.args.close) {
    if (command) throw new UsageError(`%mpirun: --session and --close take no file (got ${command}); run a script with %mpirun -np N file.ts`);
    if (ctx.args.session && ctx.args.close) throw new UsageError('%mpirun: give --session -np N to start a session, or --close to end it, not both');
  }
  if (ctx.args.close) {
    if (!slot.session) return void ctx.stdout('no %mpirun session is open\n');
    const { np, backend } = slot.session.options;
    await slot.session.close();
    slot.session = undefined;
    ctx.stdout(`closed the %mpirun session (${np} ranks on ${backend})\n`);
    return undefined;
  }
  if (ctx.args.session) {
    if (ctx.args.np === undefined) throw new UsageError('%mpirun: --session needs the number of ranks, e.g. %mpirun --session -np 4');
    const options = runOptions(ctx);
    const session = await startSession(slot, { np: options.np, backend: options.backend!, mpi: options.mpi, cwd: ctx.cwd });
    ctx.stdout(describeSession(session));
    return undefined;
  }
  if (!command) {
    if (ctx.args.np !== undefined) throw new UsageError('%mpirun: give the script to run (%mpirun -np 4 file.ts), or --session to start a session (%mpirun --session -np 4)');
    ctx.stdout(describeSession(slot.session));
    return undefined;
  }
  if (ctx.args.np === undefined) throw new UsageError(`%mpirun: give the number of ranks, e.g. %mpirun -np 4 ${command}`);
  return runFile(ctx);
}

async function runFile(ctx: MagicContext): Promise<undefined> {
  const [file, ...args] = tokenize(String(ctx.args.command)).map((t) => t.text);
  const full = path.resolve(ctx.cwd, file!);
  if (!/\.([cm]?[jt]s|tsx)$/.test(full)) throw new UsageError(`%mpirun: ${file} is not a .ts or .js file; give the script to run, e.g. %mpirun -np 4 simpson.ts`);
  if (!fs.existsSync(full)) throw new UsageError(`%mpirun: there is no file ${file} in ${ctx.cwd}; check the name, or give an absolute path`);
  await runScript(full, args, runOptions(ctx));
  return undefined;
}

function nameArgs(ctx: MagicContext, option: string): string[] {
  const values = (ctx.args[option] as string[] | undefined) ?? [];
  for (const v of values) {
    if (!/^[A-Za-z_$][\w$]*$/.test(v)) throw new UsageError(`%%mpirun: --${option} ${v} is not a variable name; use --${option} NAME`);
  }
  return [...new Set(values)];
}

export const mpirunCell: MagicSpec = {
  name: 'mpirun',
  kind: 'cell',
  description:
    'Run the cell as N message-passing ranks (MPI style) with comm, rank and size in scope. ' +
    'Output lines are prefixed [rank k]; an error on any rank stops all ranks and is reported with its rank; ' +
    'a deadlock is stopped after --timeout seconds with what each rank was waiting in. ' +
    'Communication returns promises: await comm.recv(), await comm.allreduce(x). ' +
    'Without -np the cell runs on the session started by %mpirun --session -np N: its top-level declarations ' +
    'stay on every rank for the next session cells. --in/--scatter push notebook data to the ranks, --out/--gather pull it back.',
  examples: [
    '%%mpirun -np 4',
    '%%mpirun -np 4\nconsole.log(`Hello, this is rank ${rank} of ${size}`);',
    '%%mpirun -np 4 --out total\nconst total = await comm.allreduce(integrate(rank / size, (rank + 1) / size));',
    '%%mpirun -np 2 --backend processes --out pieces@all\nconst pieces = rank * 10;',
    '%%mpirun -np 4 --backend mpi --hostfile hosts --mpirun-args "--bind-to none"',
    '%%mpirun -np 1,2,4 --scaling --repeat 3\nconst part = integrate(rank / size, (rank + 1) / size, 1e-7);\nconst total = await comm.allreduce(part);',
    '%%mpirun -np 2 --timeline\nif (rank === 0) await comm.Send(u.subarray(0, 512), 1); else await comm.Recv(halo, 0);',
    '%%mpirun --scatter xs --gather ys\nconst ys = xs.map((x) => x * x);',
    '%%mpirun --in dx --out total\nconst total = await comm.allreduce(integrate(rank / size, (rank + 1) / size, dx));',
  ],
  args: [...runArgs, outArg, ...dataArgs, ...timelineArgs],
  handler: runCell,
  bodyHolds: 'the code every rank runs',
};

export const mpirunLine: MagicSpec = {
  name: 'mpirun',
  kind: 'line',
  description:
    'Run a script file (.ts or .js) as N ranks, like mpirun -np N; or manage the notebook\'s rank session. In the script, ' +
    "import { comm } from 'tslab-parallel' is the rank's world communicator. " +
    '%mpirun --session -np N starts ranks that stay up between %%mpirun cells (closing an open session); ' +
    '%mpirun alone shows the session (ranks, backend, threads or pids, with --backend mpi each rank\'s pid and host, cells run, busy or idle); %mpirun --close ends it.',
  examples: ['%mpirun -np 4 simpson.ts', '%mpirun -np 2 --backend processes diffusion.ts 1024 512', '%mpirun --session -np 4 --backend processes', '%mpirun', '%mpirun --close'],
  args: [...runArgs, ...sessionArgs, { kind: 'rest', name: 'command', optional: true, metavar: 'FILE [ARGS]', help: 'the script file to run, then its arguments.' }],
  handler: runLine,
};

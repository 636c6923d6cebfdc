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
import { describeSession, kSessionScope, runSessionCell, sessionSlot, startSession, typeOf, type CellData } from './mpirun-session.js';
import { UsageError, type ArgumentSpec, type MagicContext, type MagicSpec } from './types.js';

/** Options both forms share: how many ranks, on what, for how long. */
const runArgs: readonly ArgumentSpec[] = [
  {
    kind: 'option',
    name: 'np',
    aliases: ['np', 'n'],
    type: 'integer',
    min: 1,
    metavar: 'N',
    help: 'number of ranks of a one-off world; without it, a %%mpirun cell runs on the open %mpirun session.',
  },
  {
    kind: 'option',
    name: 'backend',
    type: 'string',
    choices: ['threads', 'processes', 'mpi'],
    default: 'threads',
    help:
      'threads: worker threads sharing memory (default, fastest); processes: one child process per rank; ' +
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
  help: "bring a variable back into the notebook: rank 0's value, or with @all a list of every rank's.",
};

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
  return ((values as string[] | undefined) ?? []).map((v) => {
    const m = /^([A-Za-z_$][\w$]*)(@all)?$/.exec(v);
    if (!m) throw new UsageError(`%%mpirun: --out ${v} is not a variable name; use --out NAME (rank 0's value) or --out NAME@all (every rank's)`);
    return { name: m[1]!, all: m[2] !== undefined };
  });
}

function runOptions(ctx: MagicContext): Pick<RunRanksOptions, 'np' | 'backend' | 'timeout' | 'signal' | 'cwd' | 'onOutput' | 'mpi'> {
  return {
    np: ctx.args.np as number,
    backend: ctx.args.backend as LaunchBackend,
    mpi: mpiOptions(ctx),
    timeout: ctx.args.timeout as number,
    signal: ctx.signal,
    cwd: ctx.cwd,
    onOutput: (rank, stream, text) => ctx[stream](prefixLines(rank, text)),
  };
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
  if (ctx.body.trim() === '') {
    throw new UsageError('%%mpirun is a cell magic, but the cell body is empty; write the code every rank runs below the %%mpirun line');
  }
  const outs = parseOuts(ctx.args.out);
  const data: CellData = { ins: nameArgs(ctx, 'in'), scatters: nameArgs(ctx, 'scatter'), gathers: nameArgs(ctx, 'gather'), outs };
  const timeout = ctx.args.timeout as number;
  if (ctx.args.np === undefined) {
    const slot = sessionSlot(ctx);
    if (!slot.session) {
      throw new UsageError('%%mpirun: no %mpirun session is open; start one with %mpirun --session -np 4, or give -np N to run this cell as a one-off world');
    }
    if (!slot.session.open) throw new UsageError(`%%mpirun: ${describeSession(slot.session).trim()}`);
    await runSessionCell(ctx, slot, slot.session, data, timeout);
    return undefined;
  }
  const options = runOptions(ctx); // checks the options before the cell is compiled
  if (data.ins.length + data.scatters.length + data.gathers.length > 0) {
    // Data options need a rank loop that takes values in and out: a session of one cell.
    const once = await RankSession.start({ np: options.np, backend: options.backend!, mpi: options.mpi, cwd: ctx.cwd });
    try {
      await runSessionCell(ctx, { session: once, scope: kSessionScope }, once, data, timeout);
    } finally {
      await once.close();
    }
    return undefined;
  }
  const names = [...new Set(outs.map((o) => o.name))];
  // Ranks hand --out variables back by returning them; the return goes after the last line,
  // so the cell's line numbers stay as they are.
  const source = names.length > 0 ? `${ctx.body}\nreturn { ${names.join(', ')} };` : ctx.body;
  const compiled = await ctx.compileForShipping(source, { params: kRankParams, paramTypes: kRankTypes, lineOffset: ctx.bodyLine - 1 });
  const shipment = ship({ rank: { ...compiled, provided: compiled.provided ?? kRankParams } }, { definitions: ctx.definitions, cwd: ctx.cwd });
  const values = await runRanks<Record<string, unknown> | undefined>({ ...options, shipment });
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
    '%%mpirun --scatter xs --gather ys\nconst ys = xs.map((x) => x * x);',
    '%%mpirun --in dx --out total\nconst total = await comm.allreduce(integrate(rank / size, (rank + 1) / size, dx));',
  ],
  args: [...runArgs, outArg, ...dataArgs],
  handler: runCell,
};

export const mpirunLine: MagicSpec = {
  name: 'mpirun',
  kind: 'line',
  description:
    'Run a script file (.ts or .js) as N ranks, like mpirun -np N; or manage the notebook\'s rank session. In the script, ' +
    "import { comm } from 'tslab-parallel' is the rank's world communicator. " +
    '%mpirun --session -np N starts ranks that stay up between %%mpirun cells (closing an open session); ' +
    '%mpirun alone shows the session (ranks, backend, threads or pids, cells run, busy or idle); %mpirun --close ends it.',
  examples: ['%mpirun -np 4 simpson.ts', '%mpirun -np 2 --backend processes diffusion.ts 1024 512', '%mpirun --session -np 4 --backend processes', '%mpirun', '%mpirun --close'],
  args: [...runArgs, ...sessionArgs, { kind: 'rest', name: 'command', optional: true, metavar: 'FILE [ARGS]', help: 'the script file to run, then its arguments.' }],
  handler: runLine,
};

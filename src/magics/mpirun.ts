/**
 * %%mpirun / %mpirun: run a cell (or a script file) as N message-passing ranks, mpi4py style.
 * Every rank has `comm`, `rank` and `size` in scope; output is prefixed `[rank k]`; an error
 * on any rank stops all of them and is reported with its rank; `--out NAME` brings rank 0's
 * NAME back into the notebook (`NAME@all`: a list of every rank's).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { prefixLines, runRanks, runScript, type LaunchBackend, type RunRanksOptions } from '../comm/index.js';
import { splitArgs } from '../comm/mpi/launcher-command.js';
import { ship } from '../ship/index.js';
import { tokenize } from './args.js';
import { showRankTimeline, tracedRankSource } from './mpirun-timeline.js';
import { UsageError, type ArgumentSpec, type MagicContext, type MagicSpec } from './types.js';

/** Options both forms share: how many ranks, on what, for how long. */
const runArgs: readonly ArgumentSpec[] = [
  { kind: 'option', name: 'np', aliases: ['np', 'n'], type: 'integer', min: 1, required: true, metavar: 'N', help: 'number of ranks.' },
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

const timelineArgs: readonly ArgumentSpec[] = [
  {
    kind: 'flag',
    name: 'timeline',
    help: 'trace every rank: compute and waiting per rank, a line from each send to its receive, the communication matrix, a per-rank table.',
  },
  { kind: 'option', name: 'timeline-out', type: 'string', metavar: 'NAME', help: 'with --timeline: bind the traced records (a CommTimeline) to NAME.' },
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
  const options = runOptions(ctx); // checks the options before the cell is compiled
  const outs = parseOuts(ctx.args.out);
  const names = [...new Set(outs.map((o) => o.name))];
  // Ranks hand --out variables back by returning them; the return goes after the last line,
  // so the cell's line numbers stay as they are.
  const timelineOut = ctx.args['timeline-out'] as string | undefined;
  const timeline = ctx.args.timeline === true || timelineOut !== undefined;
  if (timelineOut !== undefined && !/^[A-Za-z_$][\w$]*$/.test(timelineOut)) throw new UsageError(`%%mpirun: --timeline-out ${timelineOut} is not a variable name; use e.g. --timeline-out tl`);
  const source = timeline ? tracedRankSource(ctx.body, names) : names.length > 0 ? `${ctx.body}\nreturn { ${names.join(', ')} };` : ctx.body;
  const lineOffset = ctx.bodyLine - 1 - (timeline ? 1 : 0); // the traced source has one line in front
  const compiled = await ctx.compileForShipping(source, { params: kRankParams, paramTypes: kRankTypes, lineOffset });
  const shipment = ship({ rank: { ...compiled, provided: compiled.provided ?? kRankParams } }, { definitions: ctx.definitions, cwd: ctx.cwd });
  const values = await runRanks<Record<string, unknown> | undefined>({ ...options, shipment });
  if (timeline) showRankTimeline(ctx, values, timelineOut);
  for (const { name, all } of outs) {
    const value = all ? values.map((v) => v?.[name]) : values[0]?.[name];
    ctx.setVariable(name, value, all ? `${typeOf(values[0]?.[name])}[]` : typeOf(value));
  }
  return undefined;
}

async function runFile(ctx: MagicContext): Promise<undefined> {
  const [file, ...args] = tokenize(String(ctx.args.command)).map((t) => t.text);
  const full = path.resolve(ctx.cwd, file!);
  if (!/\.([cm]?[jt]s|tsx)$/.test(full)) throw new UsageError(`%mpirun: ${file} is not a .ts or .js file; give the script to run, e.g. %mpirun -np 4 simpson.ts`);
  if (!fs.existsSync(full)) throw new UsageError(`%mpirun: there is no file ${file} in ${ctx.cwd}; check the name, or give an absolute path`);
  await runScript(full, args, runOptions(ctx));
  return undefined;
}

/** The notebook type of a value brought back with --out, for the type checker. */
function typeOf(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'bigint') return typeof value;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return value.constructor.name;
  return 'any';
}

export const mpirunCell: MagicSpec = {
  name: 'mpirun',
  kind: 'cell',
  description:
    'Run the cell as N message-passing ranks (MPI style) with comm, rank and size in scope. ' +
    'Output lines are prefixed [rank k]; an error on any rank stops all ranks and is reported with its rank; ' +
    'a deadlock is stopped after --timeout seconds with what each rank was waiting in. ' +
    'Communication returns promises: await comm.recv(), await comm.allreduce(x).',
  examples: [
    '%%mpirun -np 4',
    '%%mpirun -np 4\nconsole.log(`Hello, this is rank ${rank} of ${size}`);',
    '%%mpirun -np 4 --out total\nconst total = await comm.allreduce(integrate(rank / size, (rank + 1) / size));',
    '%%mpirun -np 2 --backend processes --out pieces@all\nconst pieces = rank * 10;',
    '%%mpirun -np 4 --backend mpi --hostfile hosts --mpirun-args "--bind-to none"',
    '%%mpirun -np 2 --timeline\nif (rank === 0) await comm.Send(u.subarray(0, 512), 1); else await comm.Recv(halo, 0);',
  ],
  args: [...runArgs, outArg, ...timelineArgs],
  handler: runCell,
};

export const mpirunLine: MagicSpec = {
  name: 'mpirun',
  kind: 'line',
  description:
    'Run a script file (.ts or .js) as N ranks, like mpirun -np N. In the script, ' +
    "import { comm } from 'tslab-parallel' is the rank's world communicator.",
  examples: ['%mpirun -np 4 simpson.ts', '%mpirun -np 2 --backend processes diffusion.ts 1024 512'],
  args: [...runArgs, { kind: 'rest', name: 'command', metavar: 'FILE [ARGS]', help: 'the script file to run, then its arguments.' }],
  handler: runFile,
};

/**
 * `tslab-parallel mpirun -np N [--backend threads|processes] [--timeout S] FILE [ARGS...]`:
 * runs a .ts or .js script as N ranks, printing each rank's output with a `[rank k]` prefix.
 * Exits 0 when every rank finished, the code given to comm.abort(code), 1 when a rank failed
 * or the ranks deadlocked, and 2 for wrong usage.
 */
import { runScript, type LaunchBackend } from '../comm/index.js';
import { splitArgs } from '../comm/mpi/launcher-command.js';

export const kMpirunUsage = `Usage: tslab-parallel mpirun -np N [--backend threads|processes|mpi] [--timeout S] FILE [ARGS...]

Runs FILE (.ts, .js or .mjs) as N ranks. In the script, import { comm } from 'tslab-parallel'
is the rank's world communicator (comm.rank, comm.size, await comm.allreduce(x), ...).

Options:
  -np N, -n N        number of ranks (required)
  --backend B        threads (default): worker threads sharing memory; processes: one process per rank
                     (small messages through shared memory with the addon of npm run build:shm);
                     mpi: Open MPI through a real mpirun (needs npm run build:mpi; see docs/mpi.md)
  --hostfile FILE    backend mpi: the hosts to run on (mpirun --hostfile)
  --mpirun-args "A"  backend mpi: more arguments for mpirun, e.g. "--bind-to none"
  --timeout S        seconds all ranks may wait in communication before a deadlock report (default 10; 0: never)
  -h, --help         this text`;

class UsageProblem extends Error {}

interface Parsed {
  readonly np: number;
  readonly backend: LaunchBackend;
  readonly timeout: number;
  readonly hostfile: string | undefined;
  readonly mpirunArgs: string[];
  readonly file: string;
  readonly args: string[];
}

function parse(argv: readonly string[]): Parsed | 'help' {
  let np: number | undefined;
  let backend: LaunchBackend = 'threads';
  let timeout = 10;
  let hostfile: string | undefined;
  let mpirunArgs: string[] = [];
  let i = 0;
  const value = (name: string): string => {
    const eq = argv[i]!.indexOf('=');
    if (eq >= 0) return argv[i]!.slice(eq + 1);
    const v = argv[++i];
    if (v === undefined) throw new UsageProblem(`${name} needs a value`);
    return v;
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split('=')[0]!;
    if (a === '-h' || a === '--help') return 'help';
    if (name === '-np' || name === '-n' || name === '--np') {
      const v = value(name);
      np = Number(v);
      if (!/^\d+$/.test(v) || np < 1) throw new UsageProblem(`-np must be a positive integer, got '${v}'`);
    } else if (name === '--backend') {
      const v = value(name);
      if (v !== 'threads' && v !== 'processes' && v !== 'mpi') throw new UsageProblem(`--backend must be threads, processes or mpi, got '${v}'`);
      backend = v;
    } else if (name === '--hostfile') {
      hostfile = value(name);
    } else if (name === '--mpirun-args') {
      try {
        mpirunArgs = splitArgs(value(name));
      } catch (err) {
        throw new UsageProblem((err as Error).message);
      }
    } else if (name === '--timeout') {
      const v = value(name);
      timeout = Number(v);
      if (v.trim() === '' || !(timeout >= 0)) throw new UsageProblem(`--timeout must be a number of seconds >= 0, got '${v}'`);
    } else if (a.startsWith('-')) throw new UsageProblem(`unknown option ${a}`);
    else break;
  }
  if (np === undefined) throw new UsageProblem('mpirun needs -np N (e.g. tslab-parallel mpirun -np 4 simpson.ts)');
  const file = argv[i];
  if (file === undefined) throw new UsageProblem('mpirun needs the script to run (e.g. tslab-parallel mpirun -np 4 simpson.ts)');
  if ((hostfile !== undefined || mpirunArgs.length > 0) && backend !== 'mpi') throw new UsageProblem('--hostfile and --mpirun-args go with --backend mpi');
  return { np, backend, timeout, hostfile, mpirunArgs, file, args: argv.slice(i + 1) };
}

export async function mpirunCommand(argv: string[]): Promise<number> {
  let parsed: Parsed | 'help';
  try {
    parsed = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageProblem)) throw err;
    process.stderr.write(`tslab-parallel mpirun: ${err.message}\n\n${kMpirunUsage}\n`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(kMpirunUsage + '\n');
    return 0;
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop); // Ctrl-C stops every rank, then mpirun reports and exits
  try {
    const mpi = parsed.backend === 'mpi' ? { hostfile: parsed.hostfile, mpirunArgs: parsed.mpirunArgs } : undefined;
    await runScript(parsed.file, parsed.args, { np: parsed.np, backend: parsed.backend, timeout: parsed.timeout, signal: controller.signal, mpi });
    return 0;
  } catch (err) {
    const e = err as Error & { exitCode?: number };
    // The report, then the failing rank's own stack frames (its script's lines), if any.
    const frames = (e.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
    process.stderr.write([e.message, ...frames].join('\n') + '\n');
    return typeof e.exitCode === 'number' ? e.exitCode : 1;
  } finally {
    process.off('SIGINT', stop);
  }
}

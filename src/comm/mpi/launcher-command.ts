/**
 * The mpirun command line for N ranks of the 'mpi' backend: which launcher is installed
 * (Open MPI's mpirun or MPICH's Hydra, told apart by `--version`), and the flags each needs
 * for a hostfile, for oversubscription and to pass the control address to every host.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { kControlVariable } from './control.js';
import { MpiErrors } from './errors.js';

export type LauncherFlavour = 'openmpi' | 'mpich' | 'other';

export interface Launcher {
  readonly command: string;
  readonly flavour: LauncherFlavour;
  /** First line of `mpirun --version`. */
  readonly version: string;
}

export interface MpiLaunchOptions {
  /** A hostfile (Open MPI: --hostfile, MPICH: -f). Without one, ranks run on this host, oversubscribed as needed. */
  readonly hostfile?: string;
  /** More arguments for mpirun, before the program (e.g. ['--bind-to', 'none']). */
  readonly mpirunArgs?: readonly string[];
  /** The launcher to run (default: TSLAB_PARALLEL_MPIRUN, else mpirun). */
  readonly mpirun?: string;
}

const known = new Map<string, Launcher>();

/** Finds the launcher and its flavour (once per command); rejects with MpirunMissing when it does not run. */
export async function findLauncher(command = process.env.TSLAB_PARALLEL_MPIRUN || 'mpirun'): Promise<Launcher> {
  const cached = known.get(command);
  if (cached) return cached;
  const text = await new Promise<string>((resolve, reject) => {
    execFile(command, ['--version'], { encoding: 'utf8', timeout: 10_000 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') reject(MpiErrors.MpirunMissing(command));
      else resolve(`${stdout}\n${stderr}`);
    });
  });
  const flavour: LauncherFlavour = /Open MPI|OpenRTE/i.test(text) ? 'openmpi' : /HYDRA|MPICH/i.test(text) ? 'mpich' : 'other';
  const launcher = { command, flavour, version: text.trim().split('\n')[0] ?? '' };
  known.set(command, launcher);
  return launcher;
}

/** The rank program mpirun starts on every host: this Node and the rank entry (same paths everywhere). */
export const kRankEntry = path.join(__dirname, 'entry.js');

export function launcherArgs(launcher: Launcher, np: number, options: MpiLaunchOptions): string[] {
  const args = ['-np', String(np)];
  if (launcher.flavour === 'openmpi') {
    // Without a hostfile the notebook's machine is the cluster: allow more ranks than cores,
    // as the threads and processes backends do.
    if (options.hostfile) args.push('--hostfile', options.hostfile);
    else args.push('--oversubscribe');
    args.push('-x', kControlVariable); // Open MPI forwards only what it is told to other hosts
  } else if (options.hostfile) {
    // Hydra forwards the whole environment by default; other launchers: the common spelling.
    args.push(launcher.flavour === 'mpich' ? '-f' : '--hostfile', options.hostfile);
  }
  args.push(...(options.mpirunArgs ?? []));
  args.push(process.execPath, kRankEntry);
  return args;
}

/** Splits a string of mpirun arguments the way a shell would (quotes, backslashes; no expansions). */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: '"' | "'" | undefined;
  let started = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (c === '\\' && i + 1 < text.length) {
      current += text[++i];
      started = true;
    } else if (/\s/.test(c)) {
      if (started) out.push(current);
      current = '';
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (quote) throw new TypeError(`--mpirun-args: unclosed ${quote} in ${JSON.stringify(text)}; close the quote`);
  if (started) out.push(current);
  return out;
}

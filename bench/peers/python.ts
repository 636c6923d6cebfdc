/**
 * Python peers (Numba, mpi4py, multiprocessing) as long-lived processes, so that a benchmark can
 * interleave them with our side sample by sample without paying Python's start-up and Numba's
 * compilation every round. The script (bench/peers/*.py) serves cases with peer_loop.serve():
 * each request is one JSON line on stdin, `{"case": NAME, ...params}`, answered with one JSON line
 * on stdout, `{"value": number}` (one sample) or `{"error": "..."}`. Under mpirun, rank 0 reads
 * the requests and broadcasts them, so every rank runs every case.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { projectRoot } from './compare.js';

/** Debian's Python: the one that has python3-numba, python3-mpi4py and python3-numpy (not a pyenv's). */
export const kPython = process.env.TSLAB_PARALLEL_BENCH_PYTHON || '/usr/bin/python3';

const kDebianPackage: Record<string, string> = { numba: 'python3-numba', mpi4py: 'python3-mpi4py', numpy: 'python3-numpy' };

/** Why the peer cannot run here (with the fix), or undefined when the modules import. */
export function pythonMissing(modules: readonly string[]): string | undefined {
  const r = spawnSync(kPython, ['-c', modules.map((m) => `import ${m}`).join('; ')], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return `${kPython} is not installed (sudo apt-get install python3, or scripts/setup-system.sh)`;
  if (r.status === 0) return undefined;
  const missing = /No module named '([\w.]+)'/.exec(r.stderr)?.[1]?.split('.')[0];
  const pkg = (missing && kDebianPackage[missing]) || modules.map((m) => kDebianPackage[m] ?? m).join(' ');
  return `${missing ?? modules.join(', ')} is not importable by ${kPython} (sudo apt-get install ${pkg}, or scripts/setup-system.sh)`;
}

/** A bench/peers/*.py script, by file name. */
export function peerScript(name: string): string {
  return path.join(projectRoot, 'bench', 'peers', name);
}

/** bench/peers/mpi4py_comm.py under `mpirun -np 2`, or why it cannot run here. */
export function startMpi4pyPeer(): { peer?: PythonPeer; missing?: string } {
  const missing = pythonMissing(['mpi4py', 'numpy']);
  if (missing) return { missing };
  if (spawnSync('mpirun', ['--version']).error) return { missing: "Open MPI's mpirun is not installed (sudo apt-get install openmpi-bin, or scripts/setup-system.sh)" };
  // As root (CI, containers) Open MPI refuses to start unless told; the benchmark tells it.
  const env = { OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1', OMPI_MCA_btl: 'self,vader', OMPI_MCA_rmaps_base_oversubscribe: '1' };
  return { peer: new PythonPeer(peerScript('mpi4py_comm.py'), { launcher: ['mpirun', '-np', '2'], env }) };
}

export interface PeerOptions {
  /** A launcher and its arguments before the Python command, e.g. ['mpirun', '-np', '2']. */
  readonly launcher?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

export class PythonPeer {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: Interface;
  readonly #pending: { resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  #stderr = '';
  #exited: Error | null = null;

  constructor(script: string, options: PeerOptions = {}) {
    const [cmd, ...args] = [...(options.launcher ?? []), kPython, '-u', script];
    this.#child = spawn(cmd!, args, { env: { ...process.env, ...options.env }, stdio: 'pipe' });
    this.#child.stderr.on('data', (d: Buffer) => (this.#stderr = (this.#stderr + d.toString()).slice(-4000)));
    this.#lines = createInterface({ input: this.#child.stdout });
    this.#lines.on('line', (line) => {
      if (!line.startsWith('{')) return; // banners and stray prints
      this.#pending.shift()?.resolve(line);
    });
    const fail = (why: string) => {
      this.#exited = new Error(`${path.basename(script)} ${why}${this.#stderr ? `: ${this.#stderr.trim().split('\n').slice(-5).join('\n')}` : ''}`);
      for (const p of this.#pending.splice(0)) p.reject(this.#exited);
    };
    this.#child.on('error', (e) => fail(`could not start (${e.message})`));
    this.#child.on('exit', (code, signal) => fail(`exited (${signal ?? `code ${code}`})`));
  }

  /** Runs one case and resolves with its sample. */
  async run(name: string, params: Record<string, unknown> = {}): Promise<number> {
    if (this.#exited) throw this.#exited;
    const line = await new Promise<string>((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      this.#child.stdin.write(JSON.stringify({ case: name, ...params }) + '\n');
    });
    const reply = JSON.parse(line) as { value?: number; error?: string };
    if (reply.error !== undefined || typeof reply.value !== 'number') throw new Error(`peer case ${name} failed: ${reply.error ?? line}`);
    return reply.value;
  }

  /** Asks the script to end and waits for it (killed after 10 s). */
  async close(): Promise<void> {
    if (this.#exited) return;
    const gone = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.stdin.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
    this.#lines.close();
  }
}

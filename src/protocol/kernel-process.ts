/**
 * Starting a kernel as its own process and connecting to it: what Jupyter's kernel manager
 * does, for the notebook runner, the benchmarks and the tests. Any kernel command line works
 * (this kernel by default, plain tslab for comparisons); `{connection_file}` in it is replaced.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelClient } from './client.js';
import { newConnectionInfo, writeConnectionFile, type ConnectionInfo } from './connection.js';
import { kKernelNodeOptions } from './kernel-node-options.js';

export interface KernelProcess {
  readonly info: ConnectionInfo;
  readonly child: ChildProcess;
  readonly client: KernelClient;
  /** stderr of the kernel so far (its log). */
  readonly log: () => string;
  /** Asks the kernel to shut down, waits for the process to end (killing it if it does not), cleans up. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Command line; `{connection_file}` is replaced. Default: this package's kernel. */
  readonly argv?: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly connectTimeoutMs?: number;
  /** Where the kernel's stdout goes (Jupyter sends it to the server log); default: kept with stderr. */
  readonly inheritStdio?: boolean;
}

const kStopGraceMs = 5000;

export function ownKernelArgv(): string[] {
  return [process.execPath, ...kKernelNodeOptions, join(__dirname, '..', 'cli.js'), 'kernel', '-f', '{connection_file}'];
}

/** Ports are chosen free, then bound by the kernel: another process may take one in between. */
const kPortAttempts = 3;

export async function startKernel(options: StartOptions = {}): Promise<KernelProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      if (attempt >= kPortAttempts || !(err instanceof PortTakenError)) throw err;
    }
  }
}

class PortTakenError extends Error {}

async function startOnce(options: StartOptions): Promise<KernelProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'tslab-parallel-kernel-'));
  const file = join(dir, 'connection.json');
  const info = await newConnectionInfo();
  writeConnectionFile(file, info);
  const argv = (options.argv ?? ownKernelArgv()).map((a) => a.replace('{connection_file}', file));
  const child = spawn(argv[0], argv.slice(1), {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: options.inheritStdio ? 'inherit' : ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.setEncoding('utf8').on('data', (t: string) => (log += t));
  child.stderr?.setEncoding('utf8').on('data', (t: string) => (log += t));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });

  let client: KernelClient;
  try {
    client = await Promise.race([
      KernelClient.connect(info, options.connectTimeoutMs ?? 30_000),
      exited.then(() => {
        const message = `the kernel exited before answering: ${log.trim() || '(no output)'}`;
        throw /address already in use/i.test(log) ? new PortTakenError(message) : new Error(message);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    cleanup();
    throw err;
  }

  return {
    info,
    child,
    client,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        await client.shutdown(false, kStopGraceMs).catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        const ended = await Promise.race([
          exited.then(() => true),
          new Promise<boolean>((r) => (timer = setTimeout(() => r(false), kStopGraceMs))),
        ]);
        clearTimeout(timer); // a pending timer would keep the caller's process alive for nothing
        if (!ended) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      client.close();
      cleanup();
    },
  };
}

/**
 * A real kernel process driven over the Jupyter protocol, with a compact view of each
 * execution (status, result text, streams, displays, error), for magic-level tests.
 * Built on helpers/kernel.ts.
 */
import { afterAll, beforeAll } from 'vitest';
import { errorOf, outputsOf, resultOf, start, streamOf, type ExecuteResult, type KernelProcess, type Message } from './kernel.js';
import { stripAnsi } from './text.js';

export interface Run {
  readonly status: string;
  readonly result?: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly error?: { ename: string; evalue: string; traceback: string };
  readonly displays: Message[];
  readonly updates: Message[];
  readonly iopub: Message[];
}

export interface KernelSession {
  readonly kernel: KernelProcess;
  readonly pid: number;
  run(code: string, timeoutMs?: number): Promise<Run>;
  /** Starts a cell without waiting for it (to interrupt it); resolves with its Run. */
  start(code: string, timeoutMs?: number): Promise<Run>;
  stop(): Promise<void>;
}

export function summarise(r: ExecuteResult): Run {
  const err = errorOf(r);
  return {
    status: String(r.reply.content.status),
    result: resultOf(r),
    stdout: streamOf(r, 'stdout'),
    stderr: streamOf(r, 'stderr'),
    error: err && { ename: err.ename, evalue: err.evalue, traceback: stripAnsi(err.traceback.join('\n')) },
    displays: outputsOf(r, 'display_data'),
    updates: outputsOf(r, 'update_display_data'),
    iopub: r.iopub,
  };
}

export async function startSession(options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<KernelSession> {
  const kernel = await start({ cwd: options.cwd, env: options.env });
  const run = async (code: string, timeoutMs = 120_000) => summarise(await kernel.client.execute(code, { timeoutMs, stopOnError: false }));
  return { kernel, pid: kernel.child.pid!, run, start: run, stop: () => kernel.stop() };
}

/**
 * One kernel for the tests of a describe block: started before them, stopped after.
 * `const k = useKernelSession();` then `k.run(...)` inside the tests.
 */
export function useKernelSession(options: { cwd?: () => string; env?: NodeJS.ProcessEnv } = {}): KernelSession {
  let session: KernelSession | undefined;
  beforeAll(async () => {
    session = await startSession({ cwd: options.cwd?.(), env: options.env });
  }, 60_000);
  afterAll(async () => {
    await session?.stop();
  });
  const current = (): KernelSession => {
    if (!session) throw new Error('the kernel session has not started (use it inside tests)');
    return session;
  };
  return {
    get kernel() {
      return current().kernel;
    },
    get pid() {
      return current().pid;
    },
    run: (code, timeoutMs) => current().run(code, timeoutMs),
    start: (code, timeoutMs) => current().start(code, timeoutMs),
    stop: () => current().stop(),
  };
}

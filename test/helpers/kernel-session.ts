/**
 * A real kernel process driven over the Jupyter protocol, with a compact view of each
 * execution: status, result text, streams, displays, error. For magic-level tests.
 */
import { startKernel, type KernelProcess } from '../../dist/src/protocol/kernel-process.js';
import type { Message } from '../../dist/src/protocol/messages.js';
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

export function summarise(iopub: Message[], reply: Message): Run {
  const of = (t: string) => iopub.filter((m) => m.header.msg_type === t);
  const streams = (name: string) => of('stream').filter((m) => m.content.name === name).map((m) => String(m.content.text)).join('');
  const result = of('execute_result')[0]?.content.data as Record<string, unknown> | undefined;
  const err = of('error')[0]?.content as { ename: string; evalue: string; traceback: string[] } | undefined;
  return {
    status: String(reply.content.status),
    result: result ? String(result['text/plain']) : undefined,
    stdout: streams('stdout'),
    stderr: streams('stderr'),
    error: err && { ename: err.ename, evalue: err.evalue, traceback: stripAnsi(err.traceback.join('\n')) },
    displays: of('display_data'),
    updates: of('update_display_data'),
    iopub,
  };
}

export async function startSession(options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<KernelSession> {
  const kernel = await startKernel({ cwd: options.cwd, env: options.env });
  const start = async (code: string, timeoutMs = 120_000) => {
    const r = await kernel.client.execute(code, { timeoutMs, stopOnError: false });
    return summarise(r.iopub, r.reply);
  };
  return { kernel, pid: kernel.child.pid!, run: start, start, stop: () => kernel.stop() };
}

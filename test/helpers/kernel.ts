/**
 * A kernel of this package started for a test (its own process, spoken to over ZeroMQ with the
 * package's KernelClient), with shortcuts for what tests read from executions.
 */
import { startKernel, type KernelProcess, type StartOptions } from '../../dist/src/protocol/kernel-process.js';
import type { ExecuteOptions, ExecuteResult } from '../../dist/src/protocol/client.js';
import type { Message } from '../../dist/src/protocol/messages.js';

export type { KernelProcess, ExecuteResult, Message };

export function start(options: StartOptions = {}): Promise<KernelProcess> {
  return startKernel(options);
}

export function outputsOf(r: ExecuteResult, type: string): Message[] {
  return r.iopub.filter((m) => m.header.msg_type === type);
}

/** text/plain of the execute_result, or undefined. */
export function resultOf(r: ExecuteResult): string | undefined {
  const data = outputsOf(r, 'execute_result')[0]?.content.data as Record<string, string> | undefined;
  return data?.['text/plain'];
}

/** All stream text of a stream name, concatenated. */
export function streamOf(r: ExecuteResult, name: 'stdout' | 'stderr' = 'stdout'): string {
  return outputsOf(r, 'stream')
    .filter((m) => m.content.name === name)
    .map((m) => String(m.content.text))
    .join('');
}

export function errorOf(r: ExecuteResult): { ename: string; evalue: string; traceback: string[] } | undefined {
  return outputsOf(r, 'error')[0]?.content as { ename: string; evalue: string; traceback: string[] } | undefined;
}

/** Executes and returns the value's text, failing with the error if the cell failed. */
export async function evaluate(k: KernelProcess, code: string, options?: ExecuteOptions): Promise<string | undefined> {
  const r = await k.client.execute(code, options);
  if (r.reply.content.status !== 'ok') {
    throw new Error(`cell failed: ${code}\n${String(r.reply.content.ename)}: ${String(r.reply.content.evalue)}`);
  }
  return resultOf(r);
}

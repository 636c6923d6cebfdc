/**
 * A worker process (child_process.fork, IPC with advanced serialization, so structured clone
 * semantics as for threads). A child that dies is replaced under the same id. Idle children do
 * not keep the parent's event loop alive; children exit when the parent goes away.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import * as path from 'node:path';
import type { WorkerLoss } from '../errors.js';
import type { ResourceLimits } from '../options.js';
import { kPoolTag, kWorkerIdEnv, type CancelMessage, type OutputMessage, type WorkerReply, type WorkerRequest } from '../protocol.js';
import type { PoolWorker, Sent, SendOutcome, WorkerEvents } from './worker.js';

export interface ProcessWorkerOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly execArgv: readonly string[];
  readonly resourceLimits: ResourceLimits | undefined;
  readonly events: WorkerEvents;
}

/** How long close() waits for a child to exit before SIGKILL (tinypool's SIGKILL_TIMEOUT). */
const kKillTimeoutMs = 1000;
/** After a child exits, how long to wait for the rest of its output (a crash report) before reporting it. */
const kDrainTimeoutMs = 500;
/** Bytes of stderr kept to recognise how a child died. */
const kStderrTail = 4096;

/** One child process and what was sent to it. */
interface Child {
  readonly process: ChildProcess;
  readonly incarnation: number;
  readonly pending: Map<number, (outcome: SendOutcome) => void>;
  /** It has sent something: it started fine, so a replacement may start at once when it dies. */
  answered: boolean;
  stderrTail: string;
}

export class ProcessWorker implements PoolWorker {
  readonly #options: ProcessWorkerOptions;
  /** Undefined after a child died without ever answering: the next send starts one. */
  #child: Child | undefined;
  #closing = false;
  #spawned = 0;
  /** Children that exited and are delivering their last output. */
  readonly #exiting = new Set<Promise<void>>();

  constructor(
    readonly id: number,
    options: ProcessWorkerOptions,
  ) {
    this.#options = options;
    this.#child = this.#spawn();
  }

  get pid(): number | undefined {
    return this.#child?.process.pid;
  }

  get incarnation(): number {
    return this.#child?.incarnation ?? this.#spawned + 1;
  }

  send(request: WorkerRequest, _transfer: readonly ArrayBuffer[]): Sent {
    const child = (this.#child ??= this.#spawn());
    const outcome = new Promise<SendOutcome>((resolve) => {
      child.pending.set(request.seq, resolve);
      this.#updateRef(child);
      try {
        child.process.send(request);
      } catch (err) {
        child.pending.delete(request.seq);
        this.#updateRef(child);
        resolve({ ok: false, sendError: err instanceof Error ? err : new Error(String(err)) });
      }
    });
    return { incarnation: child.incarnation, outcome };
  }

  cancel(call: number): void {
    const message: CancelMessage = { kind: 'cancel', call };
    try {
      if (this.#child?.process.connected) this.#child.process.send(message);
    } catch {
      // the child is going away; its batches will be reported lost
    }
  }

  terminate(): void {
    this.#child?.process.kill('SIGKILL');
  }

  async restart(): Promise<void> {
    const child = this.#child;
    if (child) await this.#stop(child.process);
    // #onExit started the replacement if the old child had answered; otherwise start one now.
    if (!this.#closing) this.#child ??= this.#spawn();
  }

  async close(): Promise<void> {
    this.#closing = true;
    const child = this.#child?.process;
    if (child) await this.#stop(child);
    await Promise.all(this.#exiting);
  }

  /** SIGTERM, then SIGKILL if it does not exit in time; resolves when it has exited. */
  async #stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.ref(); // an idle child is unref'd; awaiting its exit must keep the program alive
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), kKillTimeoutMs);
    await exited;
    clearTimeout(timer);
  }

  #spawn(): Child {
    const o = this.#options;
    const memory = o.resourceLimits?.maxOldGenerationSizeMb;
    const proc = fork(path.join(__dirname, '..', 'entry', 'process.js'), [], {
      cwd: o.cwd,
      env: { ...process.env, ...o.env, [kWorkerIdEnv]: String(this.id) },
      execArgv: [...o.execArgv, ...(memory !== undefined ? [`--max-old-space-size=${memory}`] : [])],
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const child: Child = { process: proc, incarnation: ++this.#spawned, pending: new Map(), answered: false, stderrTail: '' };
    proc.on('message', (message: WorkerReply | OutputMessage) => this.#onMessage(child, message));
    proc.once('exit', (code, signal) => this.#onExit(child, code, signal));
    proc.on('error', () => undefined); // a failed kill/send; 'exit' reports the end
    // Native writes to fd 1/2 (V8's fatal errors among them) bypass the captured process.stdout.
    proc.stdout?.setEncoding('utf8').on('data', (text: string) => o.events.onOutput('stdout', text));
    proc.stderr?.setEncoding('utf8').on('data', (text: string) => {
      child.stderrTail = (child.stderrTail + text).slice(-kStderrTail);
      o.events.onOutput('stderr', text);
    });
    this.#updateRef(child);
    return child;
  }

  #onMessage(child: Child, message: WorkerReply | OutputMessage): void {
    child.answered = true;
    if ((message as OutputMessage)[kPoolTag] === 'output') {
      const m = message as OutputMessage;
      this.#options.events.onOutput(m.stream, m.text);
      return;
    }
    const reply = message as WorkerReply;
    const resolve = child.pending.get(reply.seq);
    if (!resolve) return;
    child.pending.delete(reply.seq);
    this.#updateRef(child);
    resolve({ ok: true, reply });
  }

  #onExit(child: Child, code: number | null, signal: NodeJS.Signals | null): void {
    // From now on, sends go to a new child; what was sent to this one is reported lost below.
    if (this.#child === child) this.#child = !this.#closing && child.answered ? this.#spawn() : undefined;
    const done = this.#reportLoss(child, code, signal);
    this.#exiting.add(done);
    void done.finally(() => this.#exiting.delete(done));
  }

  async #reportLoss(child: Child, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    // Its last words (e.g. V8's out-of-memory report) come through the pipes; let them through first.
    const streams = [child.process.stdout, child.process.stderr].filter((s): s is NonNullable<typeof s> => !!s && !s.closed);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(streams.map((s) => once(s, 'close'))), new Promise((r) => (timer = setTimeout(r, kDrainTimeoutMs)))]);
    clearTimeout(timer);
    const lastLine = child.stderrTail.trim().split('\n').pop()?.trim();
    const loss: WorkerLoss = /heap out of memory|Reached heap limit/.test(child.stderrTail)
      ? { kind: 'error', error: Object.assign(new Error('out of memory'), { code: 'ERR_WORKER_OUT_OF_MEMORY' }) }
      : !child.answered && code !== 0 && lastLine
        ? { kind: 'error', error: new Error(`the worker process failed to start (${signal ?? `exit code ${code}`}): ${lastLine}`) }
        : { kind: 'exit', code, signal };
    const pending = [...child.pending.values()];
    child.pending.clear();
    for (const resolve of pending) resolve({ ok: false, lost: loss });
  }

  /** Busy children keep the event loop alive; idle ones do not. */
  #updateRef(child: Child): void {
    const p = child.process;
    const busy = child.pending.size > 0;
    const handles = [p, p.channel, p.stdout as Socket | null, p.stderr as Socket | null] as ({ ref?(): void; unref?(): void } | null | undefined)[];
    for (const h of handles) (busy ? h?.ref : h?.unref)?.call(h);
  }
}

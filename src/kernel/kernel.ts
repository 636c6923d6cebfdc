/**
 * The kernel session: takes requests from the I/O thread one at a time, runs cells (TypeScript,
 * magics, shell lines), and publishes busy/idle, execute_input, streams, displays,
 * execute_result and errors in the order Jupyter clients expect.
 */
import type { Engine } from '../engine/engine.js';
import { isSilentResult, toMimeBundle } from '../display/bundle.js';
import { installSink } from '../display/sink.js';
import { checkBody, parseArgs } from '../magics/args.js';
import type { MagicRegistry } from '../magics/registry.js';
import { shellLine, stopAllShells } from '../magics/sh.js';
import type { MagicKind } from '../magics/types.js';
import { ExecState } from '../protocol/io-messages.js';
import type { IoThread, KernelRequest } from '../protocol/io-host.js';
import type { ExecuteRequestContent, MessageHeader } from '../protocol/messages.js';
import { notifyKernelInterrupt } from '../util/interrupt.js';
import { enterContext, ProcessContext } from '../util/process-context.js';
import { dropUnfinishedModules } from '../util/unfinished-modules.js';
import { installNotebookDefinitions } from '../ship/notebook.js';
import { isMisplacedCellMagic, parseCell, type Segment } from './cell-parser.js';
import { completeCell, inspectCell, isCellComplete } from './completion.js';
import type { DefinitionRegistry } from './definitions.js';
import { Errors, KeyboardInterrupt } from './errors.js';
import { History } from './history.js';
import { createMagicContext, type CellScope } from './magic-context.js';
import { OutputCapture } from './output-capture.js';
import { formatError } from './traceback.js';

const kShutdownHookMs = 3000;

export interface KernelParts {
  readonly engine: Engine;
  readonly magics: MagicRegistry;
  readonly definitions: DefinitionRegistry;
  readonly packageRoot: string;
  readonly log: (text: string) => void;
}

/** What attach set up and detach takes down. */
interface Attached {
  /** The kernel's process context (display sink, interrupt bus, definitions, what cells start). */
  readonly context: ProcessContext;
  /** Makes the previous context current again. */
  readonly leave: () => void;
  readonly processListeners: readonly [string, (arg: unknown) => void][];
}

export class Kernel {
  readonly #parts: KernelParts;
  readonly #history = new History();
  readonly #queue: KernelRequest[] = [];
  readonly #magicState = new Map<string, unknown>();
  readonly #shutdownHooks: (() => Promise<void> | void)[] = [];
  readonly #capture: OutputCapture;
  #io: IoThread | null = null;
  #busy = false;
  #executionCount = 0;
  #silentCount = 0;
  #parent: MessageHeader | null = null;
  #running: AbortController | null = null;
  /**
   * stop_on_error: execute requests the kernel had received when a cell failed are answered
   * "aborted" without running (those queued here and those still on their way from the I/O
   * thread); requests sent after the client saw the error run normally.
   */
  #abortReceivedBefore = 0;
  #state = ExecState.Idle;
  #attached: Attached | null = null;

  constructor(parts: KernelParts) {
    this.#parts = parts;
    this.#capture = new OutputCapture((name, text) => this.#stream(name, text));
  }

  /** Connects to the I/O thread and starts capturing output and displays. */
  attach(io: IoThread): void {
    this.#io = io;
    this.#capture.install();
    const context = new ProcessContext();
    installSink(
      {
        display: (data, metadata, id) => this.#publish('display_data', { data, metadata, transient: id ? { display_id: id } : {} }),
        update: (data, metadata, id) => this.#publish('update_display_data', { data, metadata, transient: { display_id: id } }),
      },
      context,
    );
    installNotebookDefinitions(this.#parts.definitions, context);
    // A callback or promise of an earlier cell that fails must not take the kernel down.
    const listeners: [string, (arg: unknown) => void][] = [
      ['uncaughtException', (err: unknown) => this.#reportStray('Uncaught exception', err)],
      ['unhandledRejection', (reason: unknown) => this.#reportStray('Unhandled promise rejection', reason)],
    ];
    for (const [event, listener] of listeners) process.on(event, listener);
    this.#attached = { context, leave: enterContext(context), processListeners: listeners };
  }

  handle(request: KernelRequest): void {
    this.#queue.push(request);
    if (!this.#busy) void this.#drain();
  }

  /** Stops the running cell (the I/O thread has already cut off code that did not yield). */
  interrupt(): void {
    // Here no require() can be running: one the interrupt cut off is dropped, to load afresh.
    for (const id of dropUnfinishedModules()) this.#parts.log(`interrupted while loading ${id}: it will load afresh`);
    this.#running?.abort(new KeyboardInterrupt());
    for (const err of notifyKernelInterrupt(this.#attached?.context)) this.#parts.log(`an interrupt listener failed: ${err.message}`);
  }

  async shutdown(_restart: boolean): Promise<void> {
    this.#running?.abort(new KeyboardInterrupt());
    for (const hook of this.#shutdownHooks.reverse()) {
      try {
        await Promise.race([hook(), new Promise((r) => setTimeout(r, kShutdownHookMs).unref())]);
      } catch (err) {
        this.#parts.log(`a shutdown hook failed: ${(err as Error).message}`);
      }
    }
    stopAllShells(this.#attached?.context);
    this.#parts.engine.close();
  }

  /** Stops capturing and disposes the process context (before the process exits). */
  detach(): void {
    this.#capture.uninstall();
    const attached = this.#attached;
    if (!attached) return;
    this.#attached = null;
    for (const [event, listener] of attached.processListeners) process.off(event, listener);
    attached.leave();
    for (const err of attached.context.dispose()) this.#parts.log(`disposing the process context failed: ${err.message}`);
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    try {
      for (let req = this.#queue.shift(); req; req = this.#queue.shift()) {
        try {
          await this.#dispatch(req);
        } catch (err) {
          this.#parts.log(`failed to handle ${req.msg.header.msg_type}: ${(err as Error).stack ?? err}`);
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  async #dispatch(req: KernelRequest): Promise<void> {
    const { msg } = req;
    const content = msg.content;
    switch (msg.header.msg_type) {
      case 'execute_request':
        if (req.receivedAt < this.#abortReceivedBefore) return this.#replyAborted(req);
        return this.#execute(req, content as unknown as ExecuteRequestContent);
      case 'complete_request':
        return this.#withStatus(req, async () => {
          const c = await completeCell(this.#parts.engine, this.#parts.magics, String(content.code ?? ''), Number(content.cursor_pos ?? 0));
          return ['complete_reply', { status: 'ok', matches: c.matches, cursor_start: c.start, cursor_end: c.end, metadata: {} }];
        });
      case 'inspect_request':
        return this.#withStatus(req, async () => {
          const text = await inspectCell(this.#parts.engine, this.#parts.magics, String(content.code ?? ''), Number(content.cursor_pos ?? 0));
          return ['inspect_reply', { status: 'ok', found: text !== undefined, data: text ? { 'text/plain': text } : {}, metadata: {} }];
        });
      case 'is_complete_request':
        return this.#withStatus(req, async () => ['is_complete_reply', isCellComplete(this.#parts.engine, String(content.code ?? ''))]);
      case 'history_request':
        return this.#withStatus(req, async () => ['history_reply', { status: 'ok', history: this.#history.query(content) }]);
      case 'comm_info_request':
        return this.#withStatus(req, async () => ['comm_info_reply', { status: 'ok', comms: {} }]);
      case 'comm_open':
      case 'comm_msg':
      case 'comm_close':
        return; // no comm targets: widgets are not supported
      default:
        this.#parts.log(`ignored a ${msg.header.msg_type} message: this kernel does not handle it`);
    }
  }

  /** Answers a non-execute request between busy and idle status messages. */
  async #withStatus(req: KernelRequest, answer: () => Promise<[string, Record<string, unknown>]>): Promise<void> {
    const io = this.#io!;
    io.publish(req.msg.header, 'status', { execution_state: 'busy' });
    try {
      const [type, content] = await answer();
      io.reply(req.token, type, content);
    } catch (err) {
      const e = formatError(err, this.#parts.engine.sources, this.#parts.packageRoot);
      io.reply(req.token, req.msg.header.msg_type.replace('_request', '_reply'), { status: 'error', ...e });
    } finally {
      io.publish(req.msg.header, 'status', { execution_state: 'idle' });
    }
  }

  async #execute(req: KernelRequest, content: ExecuteRequestContent): Promise<void> {
    const io = this.#io!;
    const header = req.msg.header;
    const silent = content.silent === true;
    // A silent execution never counts or enters history, whatever store_history says (ipykernel).
    const storeHistory = !silent && content.store_history !== false;
    if (storeHistory) this.#executionCount++;
    const count = this.#executionCount;
    const code = String(content.code ?? '');
    this.#parent = header;
    io.publish(header, 'status', { execution_state: 'busy' });
    if (!silent) io.publish(header, 'execute_input', { code, execution_count: count });
    if (storeHistory) this.#history.add(count, code);
    const label = storeHistory ? `In[${count}]` : `In[s${++this.#silentCount}]`;
    const abort = new AbortController();
    this.#running = abort;
    try {
      const value = await this.#runCell(code, label, abort.signal);
      if (!isSilentResult(value) && !silent) {
        io.publish(header, 'execute_result', { execution_count: count, data: toMimeBundle(value), metadata: {} });
      }
      const userExpressions = await this.#userExpressions(content.user_expressions ?? {}, label);
      io.reply(req.token, 'execute_reply', { status: 'ok', execution_count: count, user_expressions: userExpressions, payload: [] });
    } catch (err) {
      // Before the reply: a client that waits for it sends its next request after this instant.
      if (content.stop_on_error !== false) this.#abortReceivedBefore = performance.timeOrigin + performance.now();
      const error = formatError(err, this.#parts.engine.sources, this.#parts.packageRoot);
      if (!silent) io.publish(header, 'error', { ...error });
      io.reply(req.token, 'execute_reply', { status: 'error', execution_count: count, ...error, user_expressions: {}, payload: [] });
    } finally {
      this.#running = null;
      // Node reports a promise the cell rejected and never handled at the end of this task;
      // waiting one task lets that report reach the cell before idle (clients drop it after).
      await new Promise((resolve) => setImmediate(resolve));
      this.#setState(ExecState.Idle);
      io.publish(header, 'status', { execution_state: 'idle' });
    }
  }

  async #runCell(code: string, label: string, signal: AbortSignal): Promise<unknown> {
    let files = 0;
    const scope: CellScope = {
      engine: this.#parts.engine,
      definitions: this.#parts.definitions,
      signal,
      label,
      cellText: code,
      nextFile: () => (files++ === 0 ? label : `${label}.${files - 1}`),
      stream: (name, text) => this.#stream(name, text),
      runUser: (fn) => this.#runUser(fn, signal),
      state: <T>(key: string, create: () => T): T => {
        if (!this.#magicState.has(key)) this.#magicState.set(key, create());
        return this.#magicState.get(key) as T;
      },
      onShutdown: (cleanup) => this.#shutdownHooks.push(cleanup),
    };
    let value: unknown;
    for (const segment of parseCell(code, (name) => name in this.#parts.engine.namespace)) {
      if (signal.aborted) throw new KeyboardInterrupt();
      value = await this.#runSegment(segment, scope);
    }
    return value;
  }

  async #runSegment(s: Segment, scope: CellScope): Promise<unknown> {
    switch (s.kind) {
      case 'code': {
        this.#setState(ExecState.KernelBusy);
        const cell = await scope.engine.compile(s.source, { file: scope.nextFile(), label: scope.label, cellText: scope.cellText, lineOffset: s.line - 1 });
        return scope.runUser(() => cell.run());
      }
      case 'shell': {
        const ctx = createMagicContext(scope, { spec: shellLine, args: {}, line: s.command, body: '', bodyLine: s.line });
        return scope.runUser(async () => shellLine.handler(ctx));
      }
      case 'line-magic': {
        const value = await this.#runMagic('line', s.name, s.help, s.args, '', s.line, scope);
        if (s.assign === undefined) return value;
        // `x = %timeit -o …`: the value goes to a notebook variable, not to the output.
        scope.engine.bind(s.assign, value, this.#parts.magics.get('line', s.name).resultType ?? 'any');
        scope.definitions.registerBinding(s.assign, `%${s.name}`);
        return undefined;
      }
      case 'cell-magic':
        if (isMisplacedCellMagic(s)) throw Errors.MisplacedCellMagic(s.name);
        return this.#runMagic('cell', s.name, s.help, s.args, s.body, s.line + 1, scope);
    }
  }

  async #runMagic(kind: MagicKind, name: string, help: boolean, line: string, body: string, bodyLine: number, scope: CellScope): Promise<unknown> {
    const { magics } = this.#parts;
    if (help) {
      scope.stream('stdout', magics.help(kind, name) + '\n');
      return undefined;
    }
    const spec = magics.get(kind, name);
    checkBody(spec, body);
    const args = parseArgs(spec, line);
    const ctx = createMagicContext(scope, { spec, args, line, body, bodyLine });
    return scope.runUser(async () => spec.handler(ctx));
  }

  /**
   * Runs user code (a compiled cell, a magic handler) in a task of its own, marked as user code
   * for the interrupter, and ends it with KeyboardInterrupt when the user interrupts.
   */
  async #runUser<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) throw new KeyboardInterrupt();
    const previous = this.#state;
    this.#setState(ExecState.UserCode);
    try {
      return await new Promise<T>((resolve, reject) => {
        const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new KeyboardInterrupt());
        signal.addEventListener('abort', onAbort, { once: true });
        setImmediate(() => {
          let result: Promise<T>;
          try {
            result = fn();
          } catch (err) {
            result = Promise.reject(err);
          }
          result.then(
            (v) => {
              signal.removeEventListener('abort', onAbort);
              resolve(v);
            },
            (e) => {
              signal.removeEventListener('abort', onAbort);
              reject(e);
            },
          );
        });
      });
    } finally {
      this.#setState(previous === ExecState.Idle ? ExecState.KernelBusy : previous);
    }
  }

  async #userExpressions(expressions: Record<string, string>, label: string): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const [key, expr] of Object.entries(expressions)) {
      try {
        const fn = await this.#parts.engine.compileFunction(`return (${expr});`, { file: `${label}.expr${n++}`, label, cellText: expr });
        out[key] = { status: 'ok', data: toMimeBundle(await fn()), metadata: {} };
      } catch (err) {
        out[key] = { status: 'error', ...formatError(err, this.#parts.engine.sources, this.#parts.packageRoot) };
      }
    }
    return out;
  }

  #replyAborted(req: KernelRequest): void {
    const io = this.#io!;
    io.publish(req.msg.header, 'status', { execution_state: 'busy' });
    io.reply(req.token, 'execute_reply', { status: 'aborted', execution_count: this.#executionCount, user_expressions: {}, payload: [] });
    io.publish(req.msg.header, 'status', { execution_state: 'idle' });
  }

  #setState(state: ExecState): void {
    this.#state = state;
    this.#io?.setExecState(state);
  }

  #stream(name: 'stdout' | 'stderr', text: string): void {
    this.#io?.stream(this.#parent, name, text);
  }

  #publish(msgType: string, content: Record<string, unknown>): void {
    this.#io?.publish(this.#parent, msgType, content);
  }

  #reportStray(what: string, err: unknown): void {
    const e = formatError(err, this.#parts.engine.sources, this.#parts.packageRoot);
    this.#stream('stderr', `${what} (in a callback or promise of a cell): ${[...e.traceback].join('\n')}\n`);
  }
}

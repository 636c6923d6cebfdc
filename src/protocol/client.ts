/**
 * A Jupyter client over ZeroMQ: what the notebook runner, the benchmarks and the tests use to
 * drive a kernel (ours or any other) with the messaging protocol, as JupyterLab would.
 */
import * as zmq from 'zeromq';
import { endpoint, type ConnectionInfo } from './connection.js';
import type { Message, MessageHeader } from './messages.js';
import { SendQueue } from './send-queue.js';
import { makeHeader, parse, serialize, Signer } from './wire.js';

export interface ExecuteOptions {
  readonly silent?: boolean;
  readonly storeHistory?: boolean;
  readonly stopOnError?: boolean;
  readonly userExpressions?: Record<string, string>;
  /** Called with each iopub message of this execution, as it arrives. */
  readonly onIopub?: (msg: Message) => void;
  /** Rejects (without interrupting) when the reply and the idle status take longer. */
  readonly timeoutMs?: number;
}

export interface ExecuteResult {
  readonly reply: Message;
  /** iopub messages whose parent is the request, from busy to idle. */
  readonly iopub: Message[];
}

interface Waiter {
  reply?: Message;
  iopub: Message[];
  idle: boolean;
  onIopub?: (msg: Message) => void;
  settle?: () => void;
}

export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

export class KernelClient {
  readonly #signer: Signer;
  readonly #session = `client-${process.pid}-${Date.now()}`;
  readonly #shell = new zmq.Dealer();
  readonly #control = new zmq.Dealer();
  readonly #iopub = new zmq.Subscriber();
  readonly #shellQueue = new SendQueue(this.#shell);
  readonly #controlQueue = new SendQueue(this.#control);
  readonly #waiters = new Map<string, Waiter>();
  /** iopub messages not answering a request of ours (e.g. the kernel's "starting" status). */
  readonly unsolicited: Message[] = [];
  #closed = false;

  private constructor(info: ConnectionInfo) {
    this.#signer = new Signer(info.key, info.signature_scheme);
    // A kernel that is still starting refuses connections: retry every 10 ms rather than
    // ZeroMQ's default 100 ms, so the first request reaches it as soon as it listens.
    for (const s of [this.#shell, this.#control, this.#iopub]) s.reconnectInterval = 10;
    this.#shell.connect(endpoint(info, 'shell_port'));
    this.#control.connect(endpoint(info, 'control_port'));
    this.#iopub.connect(endpoint(info, 'iopub_port'));
    this.#iopub.subscribe();
    void this.#listen(this.#shell);
    void this.#listen(this.#control);
    void this.#listen(this.#iopub);
  }

  /**
   * Connects without waiting: requests sent now wait in ZeroMQ's queue until the kernel listens
   * (the benchmarks time a kernel's start to its first kernel_info_reply this way).
   */
  static open(info: ConnectionInfo): KernelClient {
    return new KernelClient(info);
  }

  /** Connects and waits until the kernel answers kernel_info and its iopub messages arrive. */
  static async connect(info: ConnectionInfo, timeoutMs = 30_000): Promise<KernelClient> {
    const client = new KernelClient(info);
    const deadline = Date.now() + timeoutMs;
    // iopub is a PUB/SUB socket: until the subscription has reached the kernel, messages are lost.
    // kernel_info is retried until one of its status messages comes back on iopub.
    while (Date.now() < deadline) {
      try {
        const r = await client.#request('shell', 'kernel_info_request', {}, 500, true);
        if (r.iopub.length > 0) return client;
      } catch (err) {
        if (!(err instanceof TimeoutError)) throw err;
      }
    }
    client.close();
    throw new TimeoutError(`the kernel did not answer kernel_info within ${timeoutMs} ms`);
  }

  kernelInfo(timeoutMs = 10_000): Promise<Message> {
    return this.#request('shell', 'kernel_info_request', {}, timeoutMs, false).then((r) => r.reply);
  }

  execute(code: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    return this.#request(
      'shell',
      'execute_request',
      {
        code,
        silent: options.silent ?? false,
        store_history: options.storeHistory ?? !(options.silent ?? false),
        user_expressions: options.userExpressions ?? {},
        allow_stdin: false,
        stop_on_error: options.stopOnError ?? true,
      },
      options.timeoutMs,
      true,
      options.onIopub,
    );
  }

  /** Sends any request on shell or control and waits for its reply (and its idle status on shell). */
  request(channel: 'shell' | 'control', msgType: string, content: Record<string, unknown>, timeoutMs?: number): Promise<Message> {
    return this.#request(channel, msgType, content, timeoutMs, false).then((r) => r.reply);
  }

  interrupt(timeoutMs = 10_000): Promise<Message> {
    return this.request('control', 'interrupt_request', {}, timeoutMs);
  }

  shutdown(restart = false, timeoutMs = 10_000): Promise<Message> {
    return this.request('control', 'shutdown_request', { restart }, timeoutMs);
  }

  /** Sends raw frames on shell (tests use it for malformed and badly signed messages). */
  sendRawShell(frames: Buffer[]): void {
    this.#shellQueue.send(frames);
  }

  /** Sends raw frames on control. */
  sendRawControl(frames: Buffer[]): void {
    this.#controlQueue.send(frames);
  }

  /** Sends a message signed with another key (tests: the kernel must ignore it). */
  sendSignedWith(key: string, msgType: string, content: Record<string, unknown>, channel: 'shell' | 'control' = 'shell'): MessageHeader {
    const header = makeHeader(msgType, this.#session, 'client');
    const frames = serialize({ header, parent_header: {}, metadata: {}, content, buffers: [] }, new Signer(key));
    (channel === 'shell' ? this.#shellQueue : this.#controlQueue).send(frames);
    return header;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [this.#shell, this.#control, this.#iopub]) {
      s.linger = 0;
      s.close();
    }
  }

  #request(
    channel: 'shell' | 'control',
    msgType: string,
    content: Record<string, unknown>,
    timeoutMs: number | undefined,
    waitIdle: boolean,
    onIopub?: (msg: Message) => void,
  ): Promise<ExecuteResult> {
    const header = makeHeader(msgType, this.#session, 'client');
    const waiter: Waiter = { iopub: [], idle: !waitIdle, onIopub };
    this.#waiters.set(header.msg_id, waiter);
    const frames = serialize({ header, parent_header: {}, metadata: {}, content, buffers: [] }, this.#signer);
    (channel === 'shell' ? this.#shellQueue : this.#controlQueue).send(frames);
    return new Promise<ExecuteResult>((resolve, reject) => {
      const timer = timeoutMs
        ? setTimeout(() => {
            this.#waiters.delete(header.msg_id);
            reject(new TimeoutError(`no ${msgType.replace('_request', '_reply')} within ${timeoutMs} ms`));
          }, timeoutMs)
        : undefined;
      waiter.settle = () => {
        if (!waiter.reply || !waiter.idle) return;
        if (timer) clearTimeout(timer);
        this.#waiters.delete(header.msg_id);
        resolve({ reply: waiter.reply, iopub: waiter.iopub });
      };
    });
  }

  async #listen(socket: zmq.Dealer | zmq.Subscriber): Promise<void> {
    try {
      for await (const frames of socket) {
        let msg: Message;
        try {
          msg = parse(frames, this.#signer);
        } catch {
          continue;
        }
        const parentId = (msg.parent_header as Partial<MessageHeader>).msg_id;
        const waiter = parentId ? this.#waiters.get(parentId) : undefined;
        if (!waiter) {
          if (socket === this.#iopub) this.unsolicited.push(msg);
          continue;
        }
        if (socket === this.#iopub) {
          waiter.iopub.push(msg);
          waiter.onIopub?.(msg);
          if (msg.header.msg_type === 'status' && msg.content.execution_state === 'idle') waiter.idle = true;
        } else {
          waiter.reply = msg;
        }
        waiter.settle?.();
      }
    } catch {
      // socket closed
    }
  }
}

/**
 * The processes transport, rank side: ranks are child processes joined by Unix domain sockets
 * (one per direction between each pair) in a private (0700) directory. Typed arrays travel as
 * raw bytes, and the kernel reads a large one straight into the receive buffer when the
 * receive is already posted.
 * Progress comes from socket events, so a waiting rank sleeps on a promise: its event loop
 * stays free. A rank that has waited a while tells its host what it waits in (for deadlock
 * reports), and tells it again when it runs on.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { allocTyped, bytesOf, dtypeOf, type TypedArray } from '../buffers.js';
import {
  completedSend,
  EventWaiters,
  Matcher,
  OpRecord,
  prepareBufferReceive,
  RecvOp,
} from '../engine.js';
import { holdLoop, releaseLoop } from '../keep-alive.js';
import { deserialize, serialize } from '../serialize.js';
import type { ProbeInfo, Transport, TransportOp } from '../transport.js';
import { FRAME_BUFFER, FRAME_HELLO, FRAME_OBJECT, frameHeader, FrameReader, type FrameSink } from './frames.js';

/** Sends up to this size are copied, so they are done at once; larger ones are written from the caller's array. */
const kCopyLimit = 64 * 1024;
/** A rank waiting this long reports itself blocked; shorter waits are normal hand-overs. */
const kReportBlockedMs = 50;

export interface ProcessHooks {
  /** Tells the host this rank is blocked in `waitingIn`, or runs again. */
  state(blocked: boolean, waitingIn: string): void;
  abort(code: number): never;
}

export function socketPath(dir: string, rank: number): string {
  return path.join(dir, `r${rank}.sock`);
}

/** The message a peer is sending us right now. */
interface Incoming {
  type: number;
  dtype: number;
  context: number;
  tag: number;
  bytes: number;
  data: Uint8Array | null;
  op: RecvOp | undefined;
}

export class ProcessesTransport implements Transport {
  readonly backend = 'processes' as const;
  readonly rank: number;
  readonly size: number;
  readonly #dir: string;
  readonly #hooks: ProcessHooks;
  /** The socket this rank sends to each peer on. */
  readonly #sockets: (net.Socket | undefined)[];
  #server: net.Server | undefined;
  readonly #matcher = new Matcher();
  readonly #waiters = new EventWaiters();
  readonly #pendingSends = new Set<OpRecord>();
  #waitingIn: () => string = () => '';
  #blockedTimer: NodeJS.Timeout | undefined;
  #reportedBlocked = false;

  constructor(rank: number, size: number, dir: string, hooks: ProcessHooks) {
    this.rank = rank;
    this.size = size;
    this.#dir = dir;
    this.#hooks = hooks;
    this.#sockets = new Array(size).fill(undefined);
  }

  // ---- connecting --------------------------------------------------------------------------
  //
  // Two sockets per pair of ranks, one per direction: each rank connects to every other rank
  // and reads what that rank sends on this connection (with `onread`, straight into receive
  // buffers); the connections it accepts are the ones it writes to.

  /** Listens for the other ranks; resolves once the socket exists. */
  listen(): Promise<void> {
    const server = net.createServer((socket) => this.#acceptOutbound(socket));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath(this.#dir, this.rank), () => {
        server.unref();
        resolve();
      });
    });
  }

  /** Connects to every other rank and waits until every rank has connected here. */
  async connect(): Promise<void> {
    await Promise.all(
      Array.from({ length: this.size }, (_, peer) => (peer === this.rank ? undefined : this.#connectInbound(peer))),
    );
    await this.wait(
      () => this.#sockets.every((s, r) => r === this.rank || s !== undefined),
      () => 'start-up (waiting for the other ranks to connect)',
    );
    this.#server!.close();
  }

  #connectInbound(peer: number): Promise<void> {
    const reader = new FrameReader(this.#sink(peer));
    const socket = net.connect({
      path: socketPath(this.#dir, peer),
      onread: {
        buffer: () => reader.nextBuffer(),
        callback: (n: number, buffer: Uint8Array) => {
          reader.received(n, buffer);
          this.#progress();
          return true;
        },
      },
    });
    socket.on('error', () => {}); // a peer that went away: the host reports why
    return new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.unref();
        socket.write(frameHeader(FRAME_HELLO, 0, this.rank, 0, 0));
        resolve();
      });
    });
  }

  /** A rank connected to us: after its HELLO, this is the socket we send to it on. */
  #acceptOutbound(socket: net.Socket): void {
    socket.unref();
    socket.on('error', () => {});
    const reader = new FrameReader({
      begin: (type, _dtype, context) => {
        if (type === FRAME_HELLO) {
          this.#sockets[context] = socket;
          this.#progress();
        }
        return null;
      },
      end: () => {},
    });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
  }

  /** Where the frames from `peer` go: straight into a posted receive, else into a message of their own. */
  #sink(peer: number): FrameSink {
    let msg: Incoming | undefined;
    return {
      begin: (type, dtype, context, tag, bytes) => {
        msg = { type, dtype, context, tag, bytes, data: null, op: undefined };
        if (type === FRAME_BUFFER) {
          const op = this.#matcher.takeReceive(peer, context, tag);
          if (op) {
            msg.op = op;
            const into = prepareBufferReceive(op, peer, tag, dtype, bytes);
            if (op.done) return null; // truncated: the bytes are dropped, the receive has failed
            if (into) return into.subarray(0, bytes);
            const array = allocTyped(dtype, bytes);
            op.value = array;
            return bytesOf(array);
          }
        }
        return (msg.data = new Uint8Array(bytes));
      },
      end: () => {
        const m = msg!;
        msg = undefined;
        if (m.op) {
          m.op.done = true;
          return;
        }
        if (m.type === FRAME_OBJECT) {
          const value = deserialize(m.data!);
          this.#matcher.arrive({ source: peer, context: m.context, tag: m.tag, bytes: m.bytes, isBuffer: false, dtype: 0, value });
        } else if (m.type === FRAME_BUFFER) {
          this.#matcher.arrive({ source: peer, context: m.context, tag: m.tag, bytes: m.bytes, isBuffer: true, dtype: m.dtype, data: m.data! });
        }
      },
    };
  }

  // ---- sending -----------------------------------------------------------------------------

  sendObject(dest: number, context: number, tag: number, value: unknown): OpRecord {
    const data = serialize(value);
    if (dest === this.rank) {
      this.#matcher.arrive({ source: dest, context, tag, bytes: data.byteLength, isBuffer: false, dtype: 0, value: deserialize(data) });
      this.#waiters.check();
      return completedSend();
    }
    return this.#write(dest, FRAME_OBJECT, 0, context, tag, data, true);
  }

  sendBuffer(dest: number, context: number, tag: number, view: TypedArray): OpRecord {
    const bytes = bytesOf(view);
    if (dest === this.rank) {
      this.#matcher.arrive({ source: dest, context, tag, bytes: bytes.byteLength, isBuffer: true, dtype: dtypeOf(view), data: bytes.slice() });
      this.#waiters.check();
      return completedSend();
    }
    const small = bytes.byteLength <= kCopyLimit;
    return this.#write(dest, FRAME_BUFFER, dtypeOf(view), context, tag, small ? bytes.slice() : bytes, small);
  }

  #write(dest: number, type: number, dtype: number, context: number, tag: number, payload: Uint8Array, owned: boolean): OpRecord {
    const socket = this.#sockets[dest]!;
    const op = owned ? completedSend() : new OpRecord();
    socket.cork();
    socket.write(frameHeader(type, dtype, context, tag, payload.byteLength));
    if (owned) socket.write(payload);
    else {
      this.#pendingSends.add(op);
      socket.write(payload, () => {
        op.done = true;
        this.#pendingSends.delete(op);
        this.#progress();
      });
    }
    socket.uncork();
    return op;
  }

  // ---- receiving and waiting ---------------------------------------------------------------

  recv(source: number, context: number, tag: number, into: TypedArray | null): RecvOp {
    const op = new RecvOp(source, context, tag, into);
    this.#matcher.post(op);
    return op;
  }

  probe(source: number, context: number, tag: number): ProbeInfo | undefined {
    return this.#matcher.peek(source, context, tag);
  }

  withdraw(op: TransportOp): boolean {
    return op instanceof RecvOp && this.#matcher.withdraw(op);
  }

  poll(): void {}

  async wait(ready: () => boolean, waitingIn: () => string): Promise<void> {
    if (ready()) return;
    this.#waitingIn = waitingIn;
    const woken = this.#waiters.add(ready);
    this.#armBlockedReport();
    holdLoop();
    try {
      await woken;
    } finally {
      releaseLoop();
    }
  }

  /** Something happened: wake the waits it completes, and tell the host we run again. */
  #progress(): void {
    this.#waiters.check();
    if (this.#reportedBlocked) {
      this.#reportedBlocked = false;
      this.#hooks.state(false, '');
    }
    clearTimeout(this.#blockedTimer);
    this.#blockedTimer = undefined;
    this.#armBlockedReport();
  }

  #armBlockedReport(): void {
    if (this.#blockedTimer || this.#reportedBlocked || this.#waiters.size === 0) return;
    this.#blockedTimer = setTimeout(() => {
      this.#blockedTimer = undefined;
      if (this.#waiters.size === 0) return;
      this.#reportedBlocked = true;
      this.#hooks.state(true, this.#waitingIn());
    }, kReportBlockedMs).unref();
  }

  async finalize(): Promise<void> {
    await this.wait(
      () => this.#pendingSends.size === 0,
      () => `finishing: ${this.#pendingSends.size} large send(s) not yet written (every send needs a matching receive)`,
    );
    // Bytes still queued in a socket would be lost when the process exits.
    await Promise.all(
      this.#sockets.map((s) => (s && s.writableLength > 0 ? new Promise<void>((resolve) => s.once('drain', () => resolve())) : undefined)),
    );
  }

  abort(code: number): never {
    return this.#hooks.abort(code);
  }
}

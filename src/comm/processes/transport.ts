/**
 * The processes transport, rank side: ranks are child processes joined by Unix domain sockets
 * (one per direction between each pair) in a private (0700) directory. Typed arrays travel as
 * raw bytes, and the kernel reads a large one straight into the receive buffer when the
 * receive is already posted.
 * Progress comes from socket events, so a waiting rank sleeps on a promise: its event loop
 * stays free. A rank that has waited a while tells its host what it waits in (for deadlock
 * reports), and tells it again when it runs on.
 *
 * With the shm addon (native/shm), ranks also share memory (rings.ts): messages up to the eager
 * limit go through a ring, and a waiting rank polls its rings for spinMicros before it sleeps on
 * its sockets (a hand-over between two running processes then takes well under a microsecond,
 * where a socket write and the wake-up of a sleeping process take several). A sender that finds
 * the receiver asleep sends it a WAKE frame. Large messages stay on the sockets, which the
 * kernel copies straight into the receive buffer.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { allocTyped, bytesOf, dtypeOf, type TypedArray } from '../buffers.js';
import {
  completedSend,
  deliverBytes,
  deliverObject,
  EventWaiters,
  Matcher,
  OpRecord,
  prepareBufferReceive,
  RecvOp,
} from '../engine.js';
import { holdLoop, releaseLoop } from '../keep-alive.js';
import { deserialize, serialize } from '../serialize.js';
import type { ProbeInfo, Transport, TransportOp } from '../transport.js';
import { copyOutOfRing } from '../ring.js';
import { FRAME_BUFFER, FRAME_HELLO, FRAME_OBJECT, FRAME_WAKE, frameHeader, FrameReader, frameWith, type FrameSink } from './frames.js';
import { REC_BUFFER, REC_OBJECT, SharedRings } from './rings.js';
import type { SharedWorld } from './shared-layout.js';

/** Sends up to this size are copied, so they are done at once; larger ones are written from the caller's array. */
const kCopyLimit = 64 * 1024;
/** A rank waiting this long reports itself blocked; shorter waits are normal hand-overs. */
const kReportBlockedMs = 50;
/** HELLO's tag: the sender maps the world's shared memory (it reads its rings). */
const kHelloShared = 1;
const kWakeFrame = frameHeader(FRAME_WAKE, 0, 0, 0, 0);
const kNothing = Buffer.alloc(0);
/**
 * The shortest a spin gets after spins in vain (unless the world's own budget is smaller, as
 * with more ranks than cores). Not a bare hand-over (under a microsecond): a reply also takes
 * the peer's promise turns, and on a host whose cores other tenants share a 2 µs floor let a
 * burst of load collapse the budget, so ranks then slept and woke through their sockets
 * (~30 µs round trips, measured); at 50 µs they went on handing over awake (5-11 µs, same host).
 */
const kMinSpinMicros = 50;
/**
 * After this many spins in vain in a row, one (a probe) is long enough for a sleeping peer to
 * wake and answer on an idle core (some 20-35 µs): two ranks that both fell asleep get back to
 * handing over awake when the machine has a core for each. Each probe in vain doubles the
 * interval (up to kProbeEveryMax): when it has not, probing only takes the core the peer needs;
 * one that got its message restores the full budget.
 */
const kProbeEvery = 8;
const kProbeEveryMax = 64;
const kProbeMicros = 60;

export interface ProcessHooks {
  /** Tells the host this rank is blocked in `waitingIn`, or runs again. */
  state(blocked: boolean, waitingIn: string): void;
  abort(code: number): never;
}

/** The world's shared memory as this rank mapped it. */
export interface SharedMemory {
  readonly world: SharedWorld;
  readonly buffer: SharedArrayBuffer;
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
  /** The shared rings, when the world has shared memory and this rank mapped it. */
  readonly #rings: SharedRings | undefined;
  /** Per peer: whether it reads its rings (said in its HELLO); we write to its ring only then. */
  readonly #peerShared: boolean[];
  /** Per peer: the sequence number of our next message to it, and of its next one to us. */
  readonly #sendSeq: Int32Array;
  readonly #recvSeq: Int32Array;
  /** Data frames read from each peer, and from those that share memory with us (against their SOCKET_SENT count). */
  readonly #framesFrom: Int32Array;
  #socketFramesRead = 0;
  #lastBell = -1;
  /** How long the next spin may poll, and how many spins in a row polled in vain (spin()). */
  #spinMicros: number;
  #spinsInVain = 0;
  #probeEvery = kProbeEvery;
  /** Waits queued or woken but not yet resumed. */
  #inWait = 0;
  /** The look at the rings that follows a sleep announcement. */
  #recheck: NodeJS.Immediate | undefined;
  readonly #onRecord = this.#record.bind(this);

  constructor(rank: number, size: number, dir: string, hooks: ProcessHooks, shared?: SharedMemory) {
    this.rank = rank;
    this.size = size;
    this.#dir = dir;
    this.#hooks = hooks;
    this.#sockets = new Array(size).fill(undefined);
    this.#rings = shared && new SharedRings(shared.world, shared.buffer, rank);
    this.#spinMicros = shared?.world.spinMicros ?? 0;
    this.#peerShared = new Array(size).fill(false);
    this.#sendSeq = new Int32Array(size);
    this.#recvSeq = new Int32Array(size);
    this.#framesFrom = new Int32Array(size);
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
        socket.write(frameHeader(FRAME_HELLO, 0, this.rank, this.#rings ? kHelloShared : 0, 0));
        resolve();
      });
    });
  }

  /** A rank connected to us: after its HELLO, this is the socket we send to it on. */
  #acceptOutbound(socket: net.Socket): void {
    socket.unref();
    socket.on('error', () => {});
    const reader = new FrameReader({
      begin: (type, _dtype, context, tag) => {
        if (type === FRAME_HELLO) {
          this.#sockets[context] = socket;
          // Its frames may have come in before its HELLO (another connection).
          this.#peerShared[context] = this.#rings !== undefined && tag === kHelloShared;
          if (this.#peerShared[context]) this.#socketFramesRead += this.#framesFrom[context]!;
          this.#progress();
        }
        return null;
      },
      end: () => {},
    });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
  }

  /**
   * Where the frames from `peer` go: straight into a posted receive, else into a message of their
   * own. Its ring records numbered before a frame are taken first, those after it once it ends.
   */
  #sink(peer: number): FrameSink {
    let msg: Incoming | undefined;
    return {
      begin: (type, dtype, context, tag, bytes) => {
        if (type === FRAME_WAKE) return null;
        if (this.#rings) this.#recvSeq[peer] = this.#rings.drain(peer, this.#recvSeq[peer]!, this.#onRecord);
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
        const m = msg;
        if (!m) return; // a WAKE frame
        msg = undefined;
        this.#recvSeq[peer] = (this.#recvSeq[peer]! + 1) | 0;
        this.#framesFrom[peer]++;
        if (this.#peerShared[peer]) this.#socketFramesRead++;
        if (m.op) m.op.done = true;
        else if (m.type === FRAME_OBJECT) {
          const value = deserialize(m.data!);
          this.#matcher.arrive({ source: peer, context: m.context, tag: m.tag, bytes: m.bytes, isBuffer: false, dtype: 0, value });
        } else if (m.type === FRAME_BUFFER) {
          this.#matcher.arrive({ source: peer, context: m.context, tag: m.tag, bytes: m.bytes, isBuffer: true, dtype: m.dtype, data: m.data! });
        }
        if (this.#rings) this.#recvSeq[peer] = this.#rings.drain(peer, this.#recvSeq[peer]!, this.#onRecord);
      },
    };
  }

  /** A ring record from `source`, in sequence: into the first matching receive, else queued. */
  #record(source: number, type: number, dtype: number, context: number, tag: number, bytes: number, at: number): void {
    const rings = this.#rings!;
    const op = this.#matcher.takeReceive(source, context, tag);
    if (type === REC_OBJECT) {
      const value = deserialize(rings.u8.subarray(at, at + bytes));
      if (op) deliverObject(op, source, tag, bytes, value);
      else this.#matcher.unexpected.push({ source, context, tag, bytes, isBuffer: false, dtype: 0, value });
    } else if (type === REC_BUFFER) {
      if (!op) this.#matcher.unexpected.push({ source, context, tag, bytes, isBuffer: true, dtype, data: rings.u8.slice(at, at + bytes) });
      else if (!copyOutOfRing(op, source, tag, dtype, rings.views[dtype]!, at, bytes)) deliverBytes(op, source, tag, dtype, rings.u8.subarray(at, at + bytes));
    }
  }

  // ---- sending -----------------------------------------------------------------------------

  sendObject(dest: number, context: number, tag: number, value: unknown): OpRecord {
    const data = serialize(value);
    if (dest === this.rank) {
      this.#matcher.arrive({ source: dest, context, tag, bytes: data.byteLength, isBuffer: false, dtype: 0, value: deserialize(data) });
      this.#waiters.check();
      return completedSend();
    }
    if (data.byteLength <= this.#eagerLimit(dest) && this.#ringWrite(dest, REC_OBJECT, 0, context, tag, data)) return completedSend();
    return this.#write(dest, FRAME_OBJECT, 0, context, tag, data, true);
  }

  sendBuffer(dest: number, context: number, tag: number, view: TypedArray): OpRecord {
    const bytes = bytesOf(view);
    if (dest === this.rank) {
      this.#matcher.arrive({ source: dest, context, tag, bytes: bytes.byteLength, isBuffer: true, dtype: dtypeOf(view), data: bytes.slice() });
      this.#waiters.check();
      return completedSend();
    }
    const dtype = dtypeOf(view);
    if (bytes.byteLength <= this.#eagerLimit(dest) && this.#ringWrite(dest, REC_BUFFER, dtype, context, tag, view)) return completedSend();
    return this.#write(dest, FRAME_BUFFER, dtype, context, tag, bytes, false);
  }

  /** Messages to `dest` up to this size go through its ring (-1: none do). */
  #eagerLimit(dest: number): number {
    return this.#peerShared[dest] ? this.#rings!.world.eagerLimit : -1;
  }

  /** Writes a message into the ring to `dest` and wakes it if it sleeps; false when the ring is full (the socket takes it). */
  #ringWrite(dest: number, type: number, dtype: number, context: number, tag: number, payload: TypedArray): boolean {
    const rings = this.#rings!;
    if (!rings.write(dest, type, dtype, context, tag, this.#sendSeq[dest]!, payload)) return false;
    this.#sendSeq[dest] = (this.#sendSeq[dest]! + 1) | 0;
    if (rings.wake(dest)) this.#sockets[dest]!.write(kWakeFrame);
    return true;
  }

  /**
   * Small payloads are copied into a one-buffer frame (one write); `owned` larger ones (a
   * serialised object) are written as they are; both are done at once. Others are written from
   * the caller's array, and the send is done when the socket has taken them.
   */
  #write(dest: number, type: number, dtype: number, context: number, tag: number, payload: Uint8Array, owned: boolean): OpRecord {
    const socket = this.#sockets[dest]!;
    this.#sendSeq[dest] = (this.#sendSeq[dest]! + 1) | 0;
    if (this.#peerShared[dest]) this.#rings!.countSocketFrame(dest);
    if (payload.byteLength <= kCopyLimit) {
      socket.write(frameWith(type, dtype, context, tag, payload));
      return completedSend();
    }
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
    if (!op.done) this.poll();
    return op;
  }

  probe(source: number, context: number, tag: number): ProbeInfo | undefined {
    this.poll();
    return this.#matcher.peek(source, context, tag);
  }

  withdraw(op: TransportOp): boolean {
    return op instanceof RecvOp && this.#matcher.withdraw(op);
  }

  /** Takes what has arrived in the rings (socket data comes by events). */
  poll(): void {
    if (this.#inWait === 0) this.#drainRings(); // (else events take the messages: see wait())
  }

  /** Takes every record in sequence out of the rings (when the bell says some came). */
  #drainRings(): void {
    const rings = this.#rings;
    if (!rings) return;
    const bell = rings.bell();
    if (bell === this.#lastBell) return;
    this.#lastBell = bell;
    // Every peer, not only those whose HELLO came: its records may come first (another connection).
    for (let s = 0; s < this.size; s++) if (s !== this.rank) this.#recvSeq[s] = rings.drain(s, this.#recvSeq[s]!, this.#onRecord);
  }

  /**
   * Polls the rings hot for up to spinMicros without yielding to the event loop, unless what it
   * waits for comes by socket (a large send being written, frames sent to us still unread, only
   * receives into buffers too large for a ring): those need the event loop, and a spinning rank
   * takes a core its peer may need. Never sleeps in between (a halted core takes tens of
   * microseconds to wake). The budget halves after each spin that waited in vain and doubles
   * after each that got its message: on a machine whose cores are busy with other work, a
   * spinning rank keeps its sleeping peer off the core it needs to answer, and full spins made
   * a round trip take two whole budgets.
   */
  spin(ready: () => boolean): boolean {
    if (this.#inWait > 0) return false; // it would overtake them (see wait())
    this.#drainRings();
    if (ready()) return true;
    const rings = this.#rings;
    if (!rings || this.#spinMicros <= 0 || !this.#sharesWithAll() || !this.#smallReceivePosted(rings.world.eagerLimit)) return false;
    const probe = this.#spinsInVain >= this.#probeEvery;
    const until = performance.now() + (probe ? Math.max(this.#spinMicros, Math.min(kProbeMicros, rings.world.spinMicros)) : this.#spinMicros) / 1000;
    for (let i = 1; ; i++) {
      if (this.#pendingSends.size > 0 || rings.socketFramesPending(this.#socketFramesRead)) return false;
      if (rings.bell() !== this.#lastBell) {
        this.#drainRings();
        if (ready()) {
          // A probe that got its message: both ranks are awake again, so spin in full.
          this.#spinMicros = probe ? rings.world.spinMicros : Math.min(rings.world.spinMicros, this.#spinMicros * 2);
          this.#spinsInVain = 0;
          if (probe) this.#probeEvery = kProbeEvery;
          return true;
        }
      } else if ((i & 63) === 0 && performance.now() > until) {
        this.#spinMicros = Math.max(Math.min(rings.world.spinMicros, kMinSpinMicros), this.#spinMicros / 2);
        if (probe) {
          this.#spinsInVain = 0;
          this.#probeEvery = Math.min(kProbeEveryMax, this.#probeEvery * 2);
        } else this.#spinsInVain++;
        return false;
      }
    }
  }

  /** Whether a receive is posted that a ring message could complete (or none is: a probe may wait). */
  #smallReceivePosted(eagerLimit: number): boolean {
    const posted = this.#matcher.posted;
    if (posted.length === 0) return true;
    for (const op of posted) if (!op.into || op.into.byteLength <= eagerLimit) return true;
    return false;
  }

  /** Spinning helps only when every message can come through the rings (a peer without them only writes to the socket). */
  #sharesWithAll(): boolean {
    for (let s = 0; s < this.size; s++) if (s !== this.rank && !this.#peerShared[s]) return false;
    return true;
  }

  /**
   * Sleeps until `ready()` (CommCore.until has spun already). Waits resume in the order they
   * began, and while any is queued or resuming, messages are taken out of the rings only by
   * events (socket data, a WAKE frame, the check below), as when sockets alone brought them:
   * collectives started together on one communicator rely on it. A message taken in the
   * middle of a rank's code would let a later call complete at once, with fewer microtask
   * hops than an earlier one woken by it, and send its next message first.
   */
  async wait(ready: () => boolean, waitingIn: () => string): Promise<void> {
    if (ready()) return;
    this.#waitingIn = waitingIn;
    const woken = this.#waiters.add(ready);
    const rings = this.#rings;
    if (rings && !this.#recheck) {
      // Announce the sleep, then look once more (as an event): a record written before a
      // sender could see the announcement is in the ring now, any later one brings a WAKE frame.
      rings.sleep();
      this.#recheck = setImmediate(() => {
        this.#recheck = undefined;
        this.#progress();
      });
    }
    this.#armBlockedReport();
    holdLoop();
    this.#inWait++;
    try {
      await woken;
    } finally {
      this.#inWait--;
      releaseLoop();
    }
  }

  /** Something happened (socket data, a WAKE frame): take what the rings hold too, wake the waits it completes, and tell the host we run again. */
  #progress(): void {
    const rings = this.#rings;
    if (rings && this.#waiters.size > 0) {
      rings.sleep(); // (again): a sender that saw us woken before this line wrote what the drain below takes
      this.#drainRings();
    }
    this.#waiters.check();
    if (rings && this.#waiters.size === 0) rings.awake();
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
    // Bytes still queued in a socket would be lost when the process exits. An empty write's
    // callback comes once everything before it is written ('drain' comes only after a write
    // that found the buffer full: a queued 16-byte WAKE frame never brings one).
    await Promise.all(
      this.#sockets.map((s) => (s && s.writableLength > 0 ? new Promise<void>((resolve) => s.write(kNothing, () => resolve())) : undefined)),
    );
  }

  abort(code: number): never {
    return this.#hooks.abort(code);
  }
}

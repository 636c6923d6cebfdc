/**
 * The threads transport, rank side: ranks are worker threads of one process that talk through
 * shared memory (layout.ts).
 *
 * - Small messages (up to `eagerLimit` bytes) are written into the sender→receiver ring and
 *   handed over at once; a receive already posted copies them straight from the ring into its
 *   buffer, a later one gets a private copy made when the ring is drained.
 * - Large messages use a rendezvous: the sender announces the message (RTS), the receiver
 *   answers when a receive matches (CTS) and the bytes stream through the sender's staging
 *   chunks, copied in by the sender and out by the receiver in parallel (pipelined), straight
 *   into the receive buffer. Nothing is buffered for a large message nobody receives.
 * - A waiting rank polls for `spinMicros` (a hand-over between two running threads takes well
 *   under a microsecond; Atomics.waitAsync wakes in tens), then sleeps on its bell with
 *   Atomics.waitAsync, so its event loop stays free to forward output and be terminated.
 */
import { allocTyped, bytesOf, dtypeOf, typedViews, type TypedArray } from '../buffers.js';
import {
  deliverBytes,
  deliverArrived,
  deliverObject,
  Matcher,
  OpRecord,
  prepareBufferReceive,
  RecvOp,
} from '../engine.js';
import { Errors } from '../errors.js';
import { holdLoop, releaseLoop } from '../keep-alive.js';
import { deserialize, serialize } from '../serialize.js';
import type { NativeCollectives, ProbeInfo, Transport, TransportOp } from '../transport.js';
import {
  BELL,
  CONSUMED,
  FILLED,
  HEAD,
  kTextBytes,
  PHASE,
  PHASE_BLOCKED,
  PHASE_RUNNING,
  rankBase,
  ringBase,
  ringOffset,
  SENDER_WAITING,
  SLEEPING,
  STAGE_DEST,
  STAGE_ID,
  stageBase,
  TAIL,
  TEXT_LEN,
  WAKES,
  type ThreadsWorld,
} from './layout.js';
import { copyElements, copyOutOfRing, kNoRoom, REC_WRAP, reserveRecord } from '../ring.js';
import { SlotAllreduce } from './reduce.js';

// Ring records: a 24-byte header (6 int32) then the payload, padded to 8 bytes.
const REC_OBJECT = 1;
const REC_BUFFER = 2;
const REC_RTS_OBJECT = 3;
const REC_RTS_BUFFER = 4;
const REC_CTS = 5;
const kHeader = 24;
const kDiscard = 1;
/** Every send that completed at once shares this op (ops are read-only once done). */
const kSent: OpRecord = Object.assign(new OpRecord(), { done: true });

interface Rendezvous {
  readonly id: number;
  readonly isBuffer: boolean;
  readonly dtype: number;
}

/** A small send waiting for ring space; its payload is a private copy, so the send is already done. */
interface QueuedRecord {
  readonly type: number;
  readonly context: number;
  readonly tag: number;
  readonly bytes: number;
  readonly word5: number;
  readonly payload: TypedArray | null;
}

class SendTransfer {
  offset = 0;
  started = false;
  constructor(
    readonly id: number,
    readonly dest: number,
    readonly data: Uint8Array,
    readonly op: OpRecord,
  ) {}
}

class RecvTransfer {
  offset = 0;
  constructor(
    readonly id: number,
    readonly source: number,
    readonly target: Uint8Array,
    readonly op: RecvOp,
    readonly finish: () => void,
  ) {}
}

export interface ThreadsHooks {
  /** Tells the host that this rank called abort(code), then ends the thread. */
  abort(code: number): never;
}

export class ThreadsTransport implements Transport {
  readonly backend = 'threads' as const;
  readonly rank: number;
  readonly size: number;

  /** Small Allreduce calls of COMM_WORLD go through shared slots (reduce.ts). */
  readonly collectives: NativeCollectives;
  readonly #world: ThreadsWorld;
  readonly #hooks: ThreadsHooks;
  readonly #ctl: Int32Array;
  readonly #ringI32: Int32Array;
  readonly #ringU8: Uint8Array;
  /** The rings viewed as each element type (by wire code): messages are copied with no view made per message. */
  readonly #ringViews: readonly TypedArray[];
  readonly #stageU8: Uint8Array;
  readonly #text: Uint8Array;
  readonly #mask: number;
  readonly #bell: number;
  readonly #matcher = new Matcher();
  readonly #queued: QueuedRecord[][];
  #queuedCount = 0;
  /** The TAIL of each outgoing ring as last read (the receiver only ever moves it on). */
  readonly #tailSeen: Int32Array;
  #lastBell = -1;
  #nextId = 1;
  readonly #awaitingCts = new Map<number, SendTransfer>();
  readonly #streaming: SendTransfer[] = [];
  readonly #incoming: RecvTransfer[] = [];
  #openSends = 0;
  readonly #encoder = new TextEncoder();

  constructor(world: ThreadsWorld, rank: number, hooks: ThreadsHooks) {
    this.#world = world;
    this.#hooks = hooks;
    this.rank = rank;
    this.size = world.size;
    this.#ctl = new Int32Array(world.control);
    this.#ringI32 = new Int32Array(world.rings);
    this.#ringU8 = new Uint8Array(world.rings);
    this.#ringViews = typedViews(world.rings);
    this.#stageU8 = new Uint8Array(world.stages);
    this.#text = new Uint8Array(world.text, rank * kTextBytes, kTextBytes);
    this.#mask = world.ringBytes - 1;
    this.#bell = rankBase(rank) + BELL;
    this.#queued = Array.from({ length: world.size }, () => []);
    this.#tailSeen = new Int32Array(world.size);
    const reducer = new SlotAllreduce(world, rank, {
      spin: (ready) => this.spin(ready),
      wait: (ready, waitingIn) => this.wait(ready, waitingIn),
      ring: (r) => this.#ring(r),
    });
    this.collectives = { Allreduce: (comm, sendbuf, recvbuf, op) => reducer.allreduce(comm, sendbuf, recvbuf, op) };
  }

  // ---- sending -----------------------------------------------------------------------------

  sendObject(dest: number, context: number, tag: number, value: unknown): OpRecord {
    const data = serialize(value);
    if (dest === this.rank) {
      this.#matcher.arrive({ source: dest, context, tag, bytes: data.byteLength, isBuffer: false, dtype: 0, value: deserialize(data) });
      return kSent;
    }
    if (data.byteLength <= this.#world.eagerLimit) {
      this.#post(dest, REC_OBJECT, context, tag, data.byteLength, 0, data, false);
      return kSent;
    }
    return this.#rendezvous(dest, REC_RTS_OBJECT, context, tag, 0, data);
  }

  sendBuffer(dest: number, context: number, tag: number, view: TypedArray): OpRecord {
    const dtype = dtypeOf(view);
    const bytes = view.byteLength;
    if (dest === this.rank) {
      this.#matcher.arrive({ source: dest, context, tag, bytes, isBuffer: true, dtype, data: bytesOf(view).slice() });
      return kSent;
    }
    if (bytes <= this.#world.eagerLimit) {
      // The ring's view of this element type copies the elements: no byte view of `view` needed.
      this.#post(dest, REC_BUFFER, context, tag, bytes, dtype, view, true);
      return kSent;
    }
    return this.#rendezvous(dest, REC_RTS_BUFFER, context, tag, dtype, bytesOf(view));
  }

  #rendezvous(dest: number, type: number, context: number, tag: number, dtype: number, data: Uint8Array): OpRecord {
    const op = new OpRecord();
    const id = this.#nextId++;
    this.#awaitingCts.set(id, new SendTransfer(id, dest, data, op));
    this.#openSends++;
    this.#post(dest, type | (dtype << 8), context, tag, data.byteLength, id, null, false);
    return op;
  }

  /** Writes a record into the ring to `dest`, or queues it (with a private copy) until there is room. */
  #post(dest: number, type: number, context: number, tag: number, bytes: number, word5: number, payload: TypedArray | null, copy: boolean): void {
    const queue = this.#queued[dest]!;
    if (queue.length === 0 && this.#tryWrite(dest, type, context, tag, bytes, word5, payload)) return;
    queue.push({ type, context, tag, bytes, word5, payload: payload && copy ? payload.slice() : payload });
    this.#queuedCount++;
    Atomics.store(this.#ctl, ringBase(this.size, this.rank, dest) + SENDER_WAITING, 1);
    this.#flushQueued(dest); // the receiver may have made room before it could see the flag
  }

  /** `payload` (data records only) is a typed array of wire code `word5` (0, bytes, for objects). */
  #tryWrite(dest: number, type: number, context: number, tag: number, bytes: number, word5: number, payload: TypedArray | null): boolean {
    const ctl = this.#ctl;
    const base = ringBase(this.size, this.rank, dest);
    const cap = this.#world.ringBytes;
    const length = (kHeader + (payload ? payload.byteLength : 0) + 7) & ~7;
    const off = ringOffset(cap, this.size, this.rank, dest);
    const i32 = this.#ringI32;
    const head = reserveRecord(ctl, base + HEAD, base + TAIL, i32, off, cap, length, this.#tailSeen, dest);
    if (head === kNoRoom) return false;
    const pos = head & this.#mask;
    const h = (off + pos) >> 2;
    i32[h] = length;
    i32[h + 1] = type;
    i32[h + 2] = context;
    i32[h + 3] = tag;
    i32[h + 4] = bytes;
    i32[h + 5] = word5;
    if (payload) {
      const ringView = this.#ringViews[word5]!;
      copyElements(ringView, (off + pos + kHeader) / ringView.BYTES_PER_ELEMENT, payload);
    }
    Atomics.store(ctl, base + HEAD, (head + length) | 0);
    this.#ring(dest);
    return true;
  }

  #flushQueued(dest: number): void {
    const queue = this.#queued[dest]!;
    while (queue.length > 0) {
      const r = queue[0]!;
      if (!this.#tryWrite(dest, r.type, r.context, r.tag, r.bytes, r.word5, r.payload)) return;
      queue.shift();
      this.#queuedCount--;
    }
    Atomics.store(this.#ctl, ringBase(this.size, this.rank, dest) + SENDER_WAITING, 0);
  }

  /** Wakes `rank` if it sleeps: every event for a rank goes through its bell. */
  #ring(rank: number): void {
    const b = rankBase(rank);
    Atomics.add(this.#ctl, b + BELL, 1);
    if (Atomics.load(this.#ctl, b + SLEEPING) !== 0) Atomics.notify(this.#ctl, b + BELL);
  }

  // ---- receiving ---------------------------------------------------------------------------

  recv(source: number, context: number, tag: number, into: TypedArray | null): RecvOp {
    const op = new RecvOp(source, context, tag, into);
    const msg = this.#matcher.takeMessage(op);
    if (!msg) {
      // Posted before draining: what is still in the rings comes after every queued message
      // and goes straight from the ring into this receive's buffer.
      this.#matcher.posted.push(op);
      this.poll();
    } else if (msg.rendezvous) this.#accept(op, msg.source, msg.tag, msg.bytes, msg.rendezvous as Rendezvous);
    else deliverArrived(op, msg);
    return op;
  }

  withdraw(op: TransportOp): boolean {
    return op instanceof RecvOp && this.#matcher.withdraw(op);
  }

  probe(source: number, context: number, tag: number): ProbeInfo | undefined {
    this.poll();
    return this.#matcher.peek(source, context, tag);
  }

  poll(): void {
    const bell = Atomics.load(this.#ctl, this.#bell);
    if (bell === this.#lastBell) return;
    this.#lastBell = bell;
    for (let s = 0; s < this.size; s++) if (s !== this.rank) this.#drain(s);
    if (this.#streaming.length > 0) this.#stream();
    if (this.#incoming.length > 0) this.#receiveChunks();
    if (this.#queuedCount > 0) for (let d = 0; d < this.size; d++) if (this.#queued[d]!.length > 0) this.#flushQueued(d);
  }

  /** Takes every record out of the ring from `s`. */
  #drain(s: number): void {
    const ctl = this.#ctl;
    const base = ringBase(this.size, s, this.rank);
    let tail = ctl[base + TAIL]!;
    const head = Atomics.load(ctl, base + HEAD);
    if (head === tail) return;
    const off = ringOffset(this.#world.ringBytes, this.size, s, this.rank);
    const i32 = this.#ringI32;
    while (tail !== head) {
      const p = off + (tail & this.#mask);
      const h = p >> 2;
      const length = i32[h]!;
      const typeWord = i32[h + 1]!;
      if (typeWord !== REC_WRAP) {
        const type = typeWord & 0xff;
        const bytes = i32[h + 4]!;
        // Only data records carry their bytes (at p + kHeader); for the others `bytes` is the message's size.
        this.#handle(s, type, typeWord >>> 8, i32[h + 2]!, i32[h + 3]!, bytes, i32[h + 5]!, p + kHeader);
      }
      tail = (tail + length) | 0;
    }
    Atomics.store(ctl, base + TAIL, tail);
    if (Atomics.load(ctl, base + SENDER_WAITING) !== 0) this.#ring(s);
  }

  #handle(s: number, type: number, dtype: number, context: number, tag: number, bytes: number, word5: number, at: number): void {
    const matcher = this.#matcher;
    switch (type) {
      case REC_OBJECT: {
        const value = deserialize(this.#ringU8.subarray(at, at + bytes));
        const op = matcher.takeReceive(s, context, tag);
        if (op) deliverObject(op, s, tag, bytes, value);
        else matcher.unexpected.push({ source: s, context, tag, bytes, isBuffer: false, dtype: 0, value });
        return;
      }
      case REC_BUFFER: {
        const op = matcher.takeReceive(s, context, tag);
        if (!op) matcher.unexpected.push({ source: s, context, tag, bytes, isBuffer: true, dtype: word5, data: this.#ringU8.slice(at, at + bytes) });
        else if (!copyOutOfRing(op, s, tag, word5, this.#ringViews[word5]!, at, bytes)) deliverBytes(op, s, tag, word5, this.#ringU8.subarray(at, at + bytes));
        return;
      }
      case REC_RTS_OBJECT:
      case REC_RTS_BUFFER: {
        const rendezvous: Rendezvous = { id: word5, isBuffer: type === REC_RTS_BUFFER, dtype };
        const op = matcher.takeReceive(s, context, tag);
        if (op) this.#accept(op, s, tag, bytes, rendezvous);
        else matcher.unexpected.push({ source: s, context, tag, bytes, isBuffer: rendezvous.isBuffer, dtype, rendezvous });
        return;
      }
      case REC_CTS: {
        const transfer = this.#awaitingCts.get(word5);
        if (!transfer) return;
        this.#awaitingCts.delete(word5);
        if (bytes === kDiscard) this.#sendDone(transfer);
        else {
          this.#streaming.push(transfer);
          this.#stream();
        }
        return;
      }
    }
  }

  /** A receive matched a large message: say where its bytes go and ask the sender for them. */
  #accept(op: RecvOp, source: number, tag: number, bytes: number, rv: Rendezvous): void {
    let target: Uint8Array;
    let finish = (): void => {
      op.done = true;
    };
    if (rv.isBuffer) {
      const into = prepareBufferReceive(op, source, tag, rv.dtype, bytes);
      if (op.done) return this.#post(source, REC_CTS, 0, 0, kDiscard, rv.id, null, false);
      if (into) target = into.subarray(0, bytes);
      else {
        const array = allocTyped(rv.dtype, bytes);
        op.value = array;
        target = bytesOf(array);
      }
    } else {
      op.source = source;
      op.tag = tag;
      op.bytes = bytes;
      if (op.into) {
        op.fail(Errors.ObjectIntoBuffer('Recv', `the message from rank ${source} (tag ${tag})`));
        return this.#post(source, REC_CTS, 0, 0, kDiscard, rv.id, null, false);
      }
      const raw = new Uint8Array(bytes);
      target = raw;
      finish = () => {
        try {
          op.value = deserialize(raw);
        } catch (err) {
          op.error = err instanceof Error ? err : new Error(String(err));
        }
        op.done = true;
      };
    }
    this.#incoming.push(new RecvTransfer(rv.id, source, target, op, finish));
    this.#post(source, REC_CTS, 0, 0, 0, rv.id, null, false);
  }

  /** Sender side of a stream: fill free staging chunks of the transfer at the front. */
  #stream(): void {
    const ctl = this.#ctl;
    const sb = stageBase(this.size, this.rank);
    const { chunkBytes, slots } = this.#world;
    const stageOff = this.rank * chunkBytes * slots;
    for (;;) {
      const t = this.#streaming[0];
      if (!t) return;
      if (!t.started) {
        Atomics.store(ctl, sb + FILLED, 0);
        Atomics.store(ctl, sb + CONSUMED, 0);
        Atomics.store(ctl, sb + STAGE_DEST, t.dest);
        Atomics.store(ctl, sb + STAGE_ID, t.id);
        t.started = true;
      }
      let filled = ctl[sb + FILLED]!;
      const consumed = Atomics.load(ctl, sb + CONSUMED);
      const total = t.data.byteLength;
      while (t.offset < total && filled - consumed < slots) {
        const n = Math.min(chunkBytes, total - t.offset);
        this.#stageU8.set(t.data.subarray(t.offset, t.offset + n), stageOff + (filled % slots) * chunkBytes);
        t.offset += n;
        Atomics.store(ctl, sb + FILLED, ++filled);
        this.#ring(t.dest);
      }
      if (consumed * chunkBytes < total) return;
      this.#streaming.shift();
      this.#sendDone(t);
    }
  }

  #sendDone(t: SendTransfer): void {
    t.op.done = true;
    this.#openSends--;
  }

  /** Receiver side of streams: copy out every filled chunk meant for us. */
  #receiveChunks(): void {
    const ctl = this.#ctl;
    const { chunkBytes, slots } = this.#world;
    const incoming = this.#incoming;
    for (let i = 0; i < incoming.length; ) {
      const t = incoming[i]!;
      const sb = stageBase(this.size, t.source);
      if (Atomics.load(ctl, sb + STAGE_ID) !== t.id || Atomics.load(ctl, sb + STAGE_DEST) !== this.rank) {
        i++;
        continue;
      }
      const stageOff = t.source * chunkBytes * slots;
      let consumed = ctl[sb + CONSUMED]!;
      const filled = Atomics.load(ctl, sb + FILLED);
      const total = t.target.byteLength;
      while (consumed < filled) {
        const n = Math.min(chunkBytes, total - t.offset);
        const from = stageOff + (consumed % slots) * chunkBytes;
        t.target.set(this.#stageU8.subarray(from, from + n), t.offset);
        t.offset += n;
        Atomics.store(ctl, sb + CONSUMED, ++consumed);
        this.#ring(t.source);
      }
      if (t.offset < total) {
        i++;
        continue;
      }
      incoming.splice(i, 1);
      t.finish();
    }
  }

  // ---- waiting -----------------------------------------------------------------------------

  /**
   * Polls hot for up to spinMicros without yielding to the event loop (a hand-over between two
   * running threads takes well under a microsecond). Never Atomics.wait in between: on a
   * virtual machine an idle core halts, and waking it costs some 35 µs (measured), thirty times
   * a whole round trip; MPI libraries poll the same way, only for ever.
   */
  spin(ready: () => boolean): boolean {
    this.poll();
    if (ready()) return true;
    const spinMs = this.#world.spinMicros / 1000;
    if (spinMs <= 0) return false;
    const ctl = this.#ctl;
    const bell = this.#bell;
    const until = performance.now() + spinMs;
    for (let i = 1; ; i++) {
      if (Atomics.load(ctl, bell) !== this.#lastBell) {
        this.poll();
        if (ready()) return true;
      } else if ((i & 63) === 0 && performance.now() > until) return false;
    }
  }

  async wait(ready: () => boolean, waitingIn: () => string): Promise<void> {
    const ctl = this.#ctl;
    const bell = this.#bell;
    const base = rankBase(this.rank);
    for (;;) {
      if (this.spin(ready)) return;
      const seen = Atomics.load(ctl, bell);
      Atomics.add(ctl, base + SLEEPING, 1);
      this.poll(); // an event may have come between the last poll and announcing the sleep
      if (ready()) {
        Atomics.sub(ctl, base + SLEEPING, 1);
        return;
      }
      this.#publish(PHASE_BLOCKED, waitingIn());
      const result = Atomics.waitAsync(ctl, bell, seen);
      if (result.async) {
        holdLoop();
        await result.value;
        releaseLoop();
      }
      Atomics.sub(ctl, base + SLEEPING, 1);
      Atomics.store(ctl, base + PHASE, PHASE_RUNNING);
      Atomics.add(ctl, base + WAKES, 1);
    }
  }

  #publish(phase: number, text: string): void {
    const { written } = this.#encoder.encodeInto(text, this.#text);
    Atomics.store(this.#ctl, rankBase(this.rank) + TEXT_LEN, written);
    Atomics.store(this.#ctl, rankBase(this.rank) + PHASE, phase);
  }

  /** Waits until every send has left this rank: large ones received, small ones in their rings. */
  async finalize(): Promise<void> {
    const ready = () => this.#openSends === 0 && this.#queuedCount === 0;
    if (!ready()) {
      await this.wait(ready, () => `finishing: ${this.#openSends + this.#queuedCount} send(s) not yet taken by their receivers (every send needs a matching receive)`);
    }
  }

  abort(code: number): never {
    return this.#hooks.abort(code);
  }
}

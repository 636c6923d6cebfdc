/**
 * The Open MPI transport, rank side: the comm layer's messages on MPI through the addon.
 * MPI does the matching (in order, wildcards included); this file frames messages (frames.ts),
 * maps contexts to MPI communicators (contexts.ts) and turns request completions into
 * TransportOp results. Typed arrays go zero-copy: small ones are copied once into the message
 * behind its header, large ones are sent from and received into the caller's array directly.
 */
import { allocTyped, bytesOf, dtypeOf, type TypedArray } from '../buffers.js';
import { completedSend, deliverBytes, deliverObject, matches, OpRecord, prepareBufferReceive, RecvOp } from '../engine.js';
import { deserialize, serialize } from '../serialize.js';
import { Errors } from '../errors.js';
import type { CommHandle, ProbeInfo, Transport, TransportOp } from '../transport.js';
import { MpiCollectives } from './collectives.js';
import { PendingTable } from './pending.js';
import { ContextTable } from './contexts.js';
import {
  dtypeOfWord,
  headerWord,
  isLarge,
  kindOf,
  KIND_BUFFER,
  KIND_OBJECT,
  kHeaderBytes,
  kInlinePayload,
  kStagingBytes,
  readHeader,
  StagingPool,
  type Header,
  type Staging,
} from './frames.js';
import { kCompletionInts, type NativeInfo, type NativeMpi } from './native.js';
import { Waiters, type ProgressEngine, type WaitHooks } from './waiting.js';

const kDone: Promise<void> = Promise.resolve();

/** Every send MPI completed at once shares this record (nobody writes to a done op). */
const kSent: OpRecord = completedSend();

/** Completions handed over per progress() call. */
const kCompletionSlots = 256;

/** `copied`: the addon already put a small typed-array payload into the receive's array. */
type OnComplete = (source: number, tag: number, bytes: number, error: number, copied: number) => void;

export interface MpiHooks extends WaitHooks {
  /** comm.abort(code): tell whoever launched the rank, then MPI_Abort. */
  abort(code: number): never;
}

export interface MpiTransportOptions {
  /** How long a wait spins before the progress thread takes over, in nanoseconds. */
  readonly spinNs: number;
  /** The progress thread's back-off: spin, then yield, then sleep up to maxSleepNs. */
  readonly backoff: { readonly spinNs: number; readonly yieldNs: number; readonly maxSleepNs: number };
}

/** What recv() hangs on its op while MPI may still match it: the request and its staging. */
interface Posted {
  readonly handle: number;
  readonly staging: Staging;
}

/** A message improbe() took off MPI's queue: received into staging, waiting for its recv(). */
class Probed {
  done = false;
  received = 0;
  error = 0;
  taker: RecvOp | undefined;
  constructor(
    readonly context: number,
    readonly source: number,
    readonly tag: number,
    readonly staging: Staging,
  ) {}
}

export class MpiTransport implements Transport, ProgressEngine {
  readonly backend = 'mpi' as const;
  readonly rank: number;
  readonly size: number;
  readonly info: NativeInfo;
  readonly collectives: MpiCollectives;

  readonly #mpi: NativeMpi;
  readonly #hooks: MpiHooks;
  readonly #completions = new Int32Array(kCompletionSlots * kCompletionInts);
  readonly #probeStatus = new Int32Array(4);
  readonly #pending = new PendingTable<OnComplete>();
  readonly #contexts: ContextTable;
  readonly #dataComm: number;
  readonly #sequence: Uint32Array;
  readonly #tagLimit: number;
  readonly #pool = new StagingPool();
  readonly #probed: Probed[] = [];
  readonly #waiters: Waiters;
  /** Sends and drains the rank must finish before it may finalize. */
  #unfinished = 0;
  /** Large payloads moving now (sent or received): a parked wait keeps polling for them. */
  #streaming = 0;

  constructor(mpi: NativeMpi, hooks: MpiHooks, options: MpiTransportOptions) {
    this.#mpi = mpi;
    this.#hooks = hooks;
    this.info = mpi.init(this.#completions, this.#probeStatus);
    this.rank = this.info.rank;
    this.size = this.info.size;
    this.#tagLimit = this.info.tagUb;
    this.#sequence = new Uint32Array(this.size);
    // World: point-to-point (context 0), collectives (1), and large payloads, each its own communicator.
    const world = Array.from({ length: this.size }, (_, i) => i);
    this.#contexts = new ContextTable(this.size);
    this.#contexts.add(0, mpi.commDup(0), world);
    this.#contexts.add(1, mpi.commDup(0), world);
    this.#dataComm = mpi.commDup(0);
    this.#waiters = new Waiters(this, options.spinNs, hooks);
    mpi.setBackoff(options.backoff.spinNs, options.backoff.yieldNs, options.backoff.maxSleepNs);
    mpi.startProgress(() => this.#woken());
    this.collectives = new MpiCollectives(mpi, this.#contexts, (handle, what, buffers) => this.awaitRequest(handle, what, buffers), options.spinNs);
  }

  // ---- sending -----------------------------------------------------------------------------

  sendObject(dest: number, context: number, tag: number, value: unknown): OpRecord {
    return this.#send(dest, context, tag, KIND_OBJECT, 0, serialize(value));
  }

  sendBuffer(dest: number, context: number, tag: number, view: TypedArray): OpRecord {
    return this.#send(dest, context, tag, KIND_BUFFER, dtypeOf(view), view);
  }

  #send(dest: number, context: number, tag: number, kind: number, dtype: number, payload: ArrayBufferView): OpRecord {
    const ctx = this.#contexts.get(context);
    const to = ctx.local[dest]!;
    const bytes = payload.byteLength;
    if (bytes <= kInlinePayload) {
      const handle = this.#mpi.isendInline(ctx.comm, to, tag, headerWord(kind, dtype, false), payload);
      return handle === 0 ? kSent : this.#track(handle, new OpRecord());
    }
    // Large: the header in order with everything else, the payload zero-copy beside it.
    const sequence = this.#nextSequence(dest);
    const op = new OpRecord();
    let left = 2;
    const finish: OnComplete = (_s, _t, _b, error) => {
      void payload; // sent from the caller's array: it must outlive the send, even a temporary one
      if (error && !op.done) op.fail(this.#error(error, `sending ${bytes} bytes to rank ${dest}`));
      if (--left === 0) {
        op.done = true;
        this.#unfinished--;
        this.#streaming--;
      }
    };
    this.#unfinished++;
    this.#streaming++;
    const started = (handle: number) => (handle === 0 ? finish(0, 0, 0, 0, 0) : this.#pending.set(handle, finish));
    started(this.#mpi.isendHeader(ctx.comm, to, tag, headerWord(kind, dtype, true), sequence, bytes));
    started(this.#mpi.isend(this.#dataComm, dest, sequence, payload, bytes));
    return op;
  }

  #nextSequence(dest: number): number {
    const s = this.#sequence[dest]!;
    this.#sequence[dest] = s + 1 >= this.#tagLimit ? 0 : s + 1;
    return s;
  }

  /** A send in flight: done when its request completes. */
  #track(handle: number, op: OpRecord): OpRecord {
    this.#unfinished++;
    this.#pending.set(handle, (_s, _t, _b, error) => {
      this.#unfinished--;
      if (error) op.fail(this.#error(error, 'a send'));
      else op.done = true;
    });
    return op;
  }

  // ---- receiving ---------------------------------------------------------------------------

  recv(source: number, context: number, tag: number, into: TypedArray | null): RecvOp {
    const op = new RecvOp(source, context, tag, into);
    if (this.#probed.length > 0 && this.#takeProbed(op)) return op;
    const ctx = this.#contexts.get(context);
    const staging = this.#pool.take();
    const from = source < 0 ? -1 : ctx.local[source]!;
    const handle = this.#mpi.irecv(ctx.comm, from, tag, staging.bytes, kStagingBytes, into);
    op.transfer = { handle, staging } satisfies Posted;
    this.#pending.set(handle, (local, msgTag, received, error, copied) => {
      if (error) {
        this.#pool.give(staging);
        op.fail(this.#error(error, 'a receive'));
      } else if (copied) {
        // The common case, done natively: a small typed array straight into the caller's.
        op.source = ctx.group[local]!;
        op.tag = msgTag;
        op.bytes = received - kHeaderBytes;
        op.isBuffer = true;
        op.dtype = dtypeOfWord(staging.words[0]!);
        op.done = true;
        this.#pool.give(staging);
      } else this.#arrived(op, ctx.group[local]!, msgTag, staging, received);
    });
    return op;
  }

  /**
   * MPI_Cancel on a receive no message has matched: the op fails with Withdrawn at once. Its
   * request still completes: cancelled, or with a message that matched it meanwhile, which
   * goes to the probed messages, so the next receive that matches gets it.
   */
  withdraw(op: TransportOp): boolean {
    const posted = op instanceof RecvOp && !op.done ? (op.transfer as Posted | undefined) : undefined;
    if (!posted || !this.#mpi.cancel) return false;
    const deliver = this.#pending.take(posted.handle);
    if (!deliver) return false;
    if (!this.#mpi.cancel(posted.handle)) {
      this.#pending.set(posted.handle, deliver);
      return false;
    }
    (op as RecvOp).fail(Errors.Withdrawn());
    const ctx = this.#contexts.get((op as RecvOp).context);
    this.#pending.set(posted.handle, (local, msgTag, received, error) => {
      if (error) return this.#pool.give(posted.staging); // cancelled (kCancelled), or failed: nothing to keep
      const probed = new Probed((op as RecvOp).context, ctx.group[local]!, msgTag, posted.staging);
      probed.done = true;
      probed.received = received;
      this.#probed.push(probed);
    });
    return true;
  }

  /** A context message is in `staging`: complete `op` with it, or start receiving its payload. */
  #arrived(op: RecvOp, source: number, tag: number, staging: Staging, received: number): void {
    const word0 = staging.words[0]!;
    if (!isLarge(word0)) {
      const payload = staging.payload(received);
      if (kindOf(word0) === KIND_BUFFER) deliverBytes(op, source, tag, dtypeOfWord(word0), payload);
      else deliverObject(op, source, tag, payload.byteLength, op.into ? undefined : deserialize(payload));
      this.#pool.give(staging);
      return;
    }
    const header = readHeader(staging.words);
    this.#pool.give(staging);
    if (header.kind === KIND_OBJECT) {
      if (op.into) {
        deliverObject(op, source, tag, header.bytes, undefined); // fails: an object into a typed array
        return this.#drain(source, header);
      }
      const data = new Uint8Array(header.bytes);
      return this.#receivePayload(op, source, header, data, () => deliverObject(op, source, tag, header.bytes, deserialize(data)));
    }
    const target = prepareBufferReceive(op, source, tag, header.dtype, header.bytes);
    if (op.done) return this.#drain(source, header); // too small: the receive failed, the bytes are dropped
    let into = target?.subarray(0, header.bytes);
    if (!into) {
      const array = allocTyped(header.dtype, header.bytes);
      op.value = array;
      into = bytesOf(array);
    }
    this.#receivePayload(op, source, header, into, () => (op.done = true));
  }

  #receivePayload(op: RecvOp, source: number, header: Header, into: Uint8Array, then: () => void): void {
    const handle = this.#mpi.irecv(this.#dataComm, source, header.sequence, into, header.bytes);
    this.#streaming++;
    this.#pending.set(handle, (_s, _t, _b, error) => {
      void into; // MPI writes into it until now
      this.#streaming--;
      if (error) op.fail(this.#error(error, `receiving from rank ${source}`));
      else then();
    });
  }

  /** Receives and drops a payload nobody can take, so its sender can finish. */
  #drain(source: number, header: Header): void {
    this.#unfinished++;
    this.#streaming++;
    const sink = new Uint8Array(header.bytes);
    const handle = this.#mpi.irecv(this.#dataComm, source, header.sequence, sink, header.bytes);
    this.#pending.set(handle, () => {
      void sink; // MPI writes into it until now
      this.#unfinished--;
      this.#streaming--;
    });
  }

  // ---- probing -----------------------------------------------------------------------------

  probe(source: number, context: number, tag: number): ProbeInfo | undefined {
    const ctx = this.#contexts.get(context);
    const from = source < 0 ? -1 : ctx.local[source]!;
    this.#waiters.watching(ctx.comm, from, tag);
    this.poll();
    // Messages probed before come first (they left MPI's queue ahead of any still in it).
    for (const p of this.#probed) if (!p.taker && matches(source, context, tag, p)) return this.#describe(p);
    const staging = this.#pool.take();
    const handle = this.#mpi.improbe(ctx.comm, from, tag, staging.bytes, kStagingBytes);
    if (handle === 0) {
      this.#pool.give(staging);
      return undefined;
    }
    const status = this.#probeStatus;
    const probed = new Probed(context, ctx.group[status[0]!]!, status[1]!, staging);
    this.#probed.push(probed);
    this.#pending.set(handle, (_s, _t, received, error) => this.#probedArrived(probed, received, error));
    this.poll();
    return this.#describe(probed);
  }

  #describe(p: Probed): ProbeInfo | undefined {
    if (!p.done) return undefined;
    const header = readHeader(p.staging.words);
    const bytes = header.large ? header.bytes : p.received - kHeaderBytes;
    return { source: p.source, tag: p.tag, bytes, isBuffer: header.kind === KIND_BUFFER };
  }

  #probedArrived(p: Probed, received: number, error: number): void {
    p.done = true;
    p.received = received;
    p.error = error;
    if (p.taker) this.#deliverProbed(p, p.taker);
  }

  /** A receive takes the first probed message it matches, if any. */
  #takeProbed(op: RecvOp): boolean {
    const i = this.#probed.findIndex((p) => !p.taker && matches(op.wantSource, op.context, op.wantTag, p));
    if (i < 0) return false;
    const p = this.#probed[i]!;
    p.taker = op;
    if (p.done) this.#deliverProbed(p, op);
    return true;
  }

  #deliverProbed(p: Probed, op: RecvOp): void {
    this.#probed.splice(this.#probed.indexOf(p), 1);
    if (p.error) {
      this.#pool.give(p.staging);
      op.fail(this.#error(p.error, 'a probed receive'));
    } else this.#arrived(op, p.source, p.tag, p.staging, p.received);
  }

  // ---- progress ----------------------------------------------------------------------------

  poll(): void {
    this.#dispatch(this.#mpi.progress());
  }

  progressFor(ns: number): boolean {
    const n = this.#mpi.progressSpin(ns);
    this.#dispatch(n);
    return n > 0;
  }

  spin(ready: () => boolean): boolean {
    return this.#waiters.spin(ready);
  }

  park(watches: Int32Array | null): void {
    this.#mpi.park(watches, this.#streaming > 0);
  }

  unpark(): void {
    this.#mpi.unpark();
  }

  wait(ready: () => boolean, waitingIn: () => string): Promise<void> {
    return this.#waiters.wait(ready, waitingIn);
  }

  /**
   * Resolves when the request `handle` (0: already done) completes; rejects with its error.
   * `buffers` are what MPI reads or writes meanwhile: held here, so that the garbage collector
   * cannot free a temporary array under MPI's feet. A request that completes within the spin
   * gives an already settled promise: no async frame.
   */
  awaitRequest(handle: number, what: () => string, buffers: readonly unknown[]): Promise<void> {
    if (handle === 0) return kDone;
    const op = new OpRecord();
    this.#pending.set(handle, (_s, _t, _b, error) => {
      void buffers; // alive until MPI is done with them
      if (error) op.fail(this.#error(error, what()));
      else op.done = true;
    });
    const ready = () => op.done;
    const settled = () => (op.error ? Promise.reject(op.error) : kDone);
    return this.spin(ready) ? settled() : this.wait(ready, what).then(settled);
  }

  #dispatch(n: number): void {
    const c = this.#completions;
    while (n > 0) {
      // Handlers may start requests but never call progress: the array stays ours until we finish.
      for (let i = 0; i < n; i++) {
        const k = i * kCompletionInts;
        const handle = c[k]!;
        const onComplete = this.#pending.take(handle);
        if (!onComplete) continue;
        onComplete(c[k + 1]!, c[k + 2]!, c[k + 3]!, c[k + 4]!, c[k + 5]!);
      }
      n = n === kCompletionSlots ? this.#mpi.progress() : 0;
    }
    this.#waiters.check();
  }

  /** The progress thread saw a completion (or a watched message) while the rank slept. */
  #woken(): void {
    this.poll();
  }

  #error(code: number, during: string): Error {
    const err = new Error(`MPI failed during ${during}: ${this.#mpi.errorString(code)}`) as Error & { code: string };
    err.code = 'MPI_ERR_OTHER';
    return err;
  }

  // ---- communicators, end ------------------------------------------------------------------

  async commCreated(child: CommHandle | null, parent: CommHandle): Promise<void> {
    // Every member is past the split's allgather; a barrier first keeps the blocking
    // MPI_Comm_split from waiting on a rank that is still finishing it. Both run on the parent's
    // point-to-point MPI communicator (contexts.ts), never on the collective one.
    await this.awaitRequest(this.#mpi.ibarrier(this.#contexts.get(parent.context).comm), () => 'barrier()', []);
    this.#contexts.split(this.#mpi, child, parent);
  }

  async finalize(): Promise<void> {
    await this.wait(
      () => this.#unfinished === 0,
      () => `finishing: ${this.#unfinished} send(s) not yet received (every send needs a matching receive)`,
    );
  }

  /** MPI_Finalize: after finalize(), when the rank exits. */
  shutdown(): void {
    this.#mpi.finalize();
  }

  abort(code: number): never {
    return this.#hooks.abort(code);
  }

}

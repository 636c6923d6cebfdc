/**
 * The rank side of %%mpirun --timeline. `traceRank(comm)` first measures this rank's clock
 * against rank 0's (ping-pongs on a private duplicate of the world, the best of several round
 * trips), then wraps the rank's transport — the one place every communicator's messages pass —
 * so that each send, receive and wait is timed. `stop()` returns what was recorded, as plain
 * data for the rank's result. Nothing here runs unless the cell asked for a timeline.
 */
import type { Communicator } from '../comm/communicator.js';
import { Request } from '../comm/request.js';
import type { Transport, TransportOp } from '../comm/transport.js';
import { traceNow } from './clock.js';

/** One communication event of a rank, in its own clock. Ranks are world ranks. */
export interface RawCommEvent {
  /** send and recv: a message posted; wait: the rank blocked; else a native collective's name. */
  readonly call: string;
  peer: number;
  readonly context: number;
  tag: number;
  /** -1: an object whose size the receiver reports. */
  bytes: number;
  readonly start: number;
  end: number;
  /** What the rank was waiting in (waits): "recv(source=0, tag=7)". */
  readonly label?: string;
  /** A point-to-point receive whose Request was never waited for or tested (the lecture's halo bug). */
  unwaited?: boolean;
  /** Its Request was waited for or tested (wait, test, waitall, waitany, testall, or a blocking recv). */
  waited?: boolean;
}

export interface RankTrace {
  readonly rank: number;
  readonly start: number;
  readonly end: number;
  readonly events: readonly RawCommEvent[];
  /** Rank 0 only: each rank's clock minus rank 0's, in ms (0 for threads: one clock). */
  readonly offsets?: readonly number[];
}

const kSyncRounds = 8;

export async function traceRank(comm: Communicator): Promise<{ stop(): RankTrace }> {
  const offsets = await measureOffsets(comm);
  const transport = comm.core.transport;
  const events: RawCommEvent[] = [];
  const receives: { event: RawCommEvent; op: TransportOp }[] = [];
  const byOp = new WeakMap<TransportOp, RawCommEvent>();
  const restoreTransport = wrapTransport(transport, events, receives, byOp);
  const restoreRequests = watchRequests(byOp);
  const start = traceNow();
  return {
    stop(): RankTrace {
      restoreTransport();
      restoreRequests();
      const end = traceNow();
      for (const { event, op } of receives) {
        // Collectives wait on their ops themselves, never through a Request.
        if (event.context % 2 === 0 && !event.waited) event.unwaited = true;
        if (event.end >= 0) continue;
        event.end = end;
        if (op.done) Object.assign(event, { peer: op.source, tag: op.tag, bytes: op.bytes });
      }
      return { rank: transport.rank, start, end, events, ...(offsets ? { offsets } : {}) };
    },
  };
}

/** Rank 0 learns every rank's clock offset (NTP's estimate: the middle of the best round trip). */
async function measureOffsets(comm: Communicator): Promise<number[] | undefined> {
  const world = comm.core.transport;
  if (world.backend === 'threads' || world.backend === 'self') return world.rank === 0 ? new Array<number>(world.size).fill(0) : undefined;
  const sync = await comm.dup();
  if (sync.rank !== 0) {
    for (let k = 0; k < kSyncRounds; k++) {
      await sync.recv(0, 1);
      await sync.send(traceNow(), 0, 2);
    }
    return undefined;
  }
  const offsets = [0];
  for (let r = 1; r < sync.size; r++) {
    let best = Infinity;
    let offset = 0;
    for (let k = 0; k < kSyncRounds; k++) {
      const t0 = traceNow();
      await sync.send(null, r, 1);
      const remote = await sync.recv<number>(r, 2);
      const t1 = traceNow();
      if (t1 - t0 < best) [best, offset] = [t1 - t0, remote - (t0 + t1) / 2];
    }
    offsets.push(offset);
  }
  return offsets;
}

type Methods = Pick<Transport, 'sendObject' | 'sendBuffer' | 'recv' | 'wait' | 'spin'>;

function wrapTransport(
  t: Transport,
  events: RawCommEvent[],
  receives: { event: RawCommEvent; op: TransportOp }[],
  byOp: WeakMap<TransportOp, RawCommEvent>,
): () => void {
  const own: Methods = { sendObject: t.sendObject, sendBuffer: t.sendBuffer, recv: t.recv, wait: t.wait, spin: t.spin };
  const sent = (dest: number, context: number, tag: number, bytes: number): void => {
    const now = traceNow();
    events.push({ call: 'send', peer: dest, context, tag, bytes, start: now, end: now });
  };
  t.sendObject = (dest, context, tag, value) => {
    sent(dest, context, tag, -1);
    return own.sendObject.call(t, dest, context, tag, value);
  };
  t.sendBuffer = (dest, context, tag, view) => {
    sent(dest, context, tag, view.byteLength);
    return own.sendBuffer.call(t, dest, context, tag, view);
  };
  t.recv = (source, context, tag, into) => {
    const op = own.recv.call(t, source, context, tag, into);
    const event: RawCommEvent = { call: 'recv', peer: source, context, tag, bytes: 0, start: traceNow(), end: -1 };
    events.push(event);
    receives.push({ event, op });
    const seen = watched(op, event);
    byOp.set(seen, event);
    return seen;
  };
  // A spin that did not finish the wait is followed at once by wait(): one interval, named by wait.
  let spun: RawCommEvent | undefined;
  t.wait = async (ready, waitingIn) => {
    let start = traceNow();
    if (spun && events[events.length - 1] === spun) {
      events.pop();
      start = spun.start;
    }
    spun = undefined;
    try {
      await own.wait.call(t, ready, waitingIn);
    } finally {
      events.push({ call: 'wait', peer: -1, context: -1, tag: -1, bytes: 0, start, end: traceNow(), label: waitingIn() });
    }
  };
  if (own.spin) {
    const spin = own.spin;
    t.spin = (ready) => {
      const start = traceNow();
      const done = spin.call(t, ready);
      const event: RawCommEvent = { call: 'wait', peer: -1, context: -1, tag: -1, bytes: 0, start, end: traceNow(), label: 'a short spin until a message arrived' };
      events.push(event);
      spun = done ? undefined : event;
      return done;
    };
  }
  const restoreCollectives = t.collectives ? wrapCollectives(t.collectives as unknown as Record<string, unknown>, events) : () => undefined;
  return () => {
    Object.assign(t, own);
    restoreCollectives();
  };
}

/** Native collectives (Open MPI's) wait inside the library: each call is one wait, named by the collective. */
function wrapCollectives(collectives: Record<string, unknown>, events: RawCommEvent[]): () => void {
  const names = ['Barrier', 'Bcast', 'Allreduce', 'Gatherv'].filter((n) => typeof collectives[n] === 'function');
  const owned = new Map(names.filter((n) => Object.hasOwn(collectives, n)).map((n) => [n, collectives[n]]));
  for (const name of names) {
    const original = collectives[name] as (...args: unknown[]) => Promise<void> | undefined;
    collectives[name] = (...args: unknown[]) => {
      const start = traceNow();
      const pending = original.apply(collectives, args);
      // undefined: not done natively; the point-to-point algorithm that follows is traced as such.
      return pending?.finally(() => events.push({ call: 'wait', peer: -1, context: -1, tag: -1, bytes: 0, start, end: traceNow(), label: `${name} (native)` }));
    };
  }
  return () => {
    for (const name of names) {
      if (owned.has(name)) collectives[name] = owned.get(name);
      else delete collectives[name];
    }
  };
}

/** Marks the receives whose Request the rank waits for or tests, by patching Request while tracing. */
function watchRequests(byOp: WeakMap<TransportOp, RawCommEvent>): () => void {
  type Many = (requests: readonly Request<unknown>[]) => unknown;
  const R = Request as unknown as Record<'waitall' | 'waitany' | 'testall' | 'Waitall' | 'Waitany' | 'Testall', Many>;
  const proto = Request.prototype as unknown as Record<'wait' | 'test', (this: Request<unknown>, ...args: unknown[]) => unknown>;
  const own = { wait: proto.wait, test: proto.test };
  const statics = { waitall: R.waitall, waitany: R.waitany, testall: R.testall, Waitall: R.Waitall, Waitany: R.Waitany, Testall: R.Testall };
  const mark = (request: Request<unknown>): void => {
    const event = byOp.get(request.op);
    if (event) event.waited = true;
  };
  proto.wait = function (this: Request<unknown>, ...args: unknown[]) {
    mark(this);
    return own.wait.apply(this, args);
  };
  proto.test = function (this: Request<unknown>, ...args: unknown[]) {
    mark(this);
    return own.test.apply(this, args);
  };
  for (const name of Object.keys(statics) as (keyof typeof statics)[]) {
    const original = statics[name];
    R[name] = (requests) => {
      for (const r of requests) mark(r);
      return original.call(Request, requests);
    };
  }
  return () => {
    Object.assign(proto, own);
    Object.assign(R, statics);
  };
}

/** The op as the communicator sees it: the first time it is seen done is when the receive completed. */
function watched(op: TransportOp, event: RawCommEvent): TransportOp {
  return {
    get done() {
      const done = op.done;
      if (done && event.end < 0) {
        event.end = traceNow();
        event.peer = op.source;
        event.tag = op.tag;
        event.bytes = op.bytes;
      }
      return done;
    },
    get error() {
      return op.error;
    },
    get value() {
      return op.value;
    },
    get source() {
      return op.source;
    },
    get tag() {
      return op.tag;
    },
    get bytes() {
      return op.bytes;
    },
    get isBuffer() {
      return op.isBuffer;
    },
    get dtype() {
      return op.dtype;
    },
  };
}

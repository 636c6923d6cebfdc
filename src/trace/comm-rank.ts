/**
 * The rank side of %%mpirun --timeline. `traceRank(comm)` first measures this rank's clock
 * against rank 0's (ping-pongs on a private duplicate of the world, the best of several round
 * trips), then wraps the rank's transport — the one place every communicator's messages pass —
 * so that each send, receive and wait is timed. `stop()` returns what was recorded, as plain
 * data for the rank's result. Nothing here runs unless the cell asked for a timeline.
 */
import type { Communicator } from '../comm/communicator.js';
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
  /** A receive whose completion nobody ever looked at. */
  unwaited?: boolean;
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
  const restore = wrapTransport(transport, events, receives);
  const start = traceNow();
  return {
    stop(): RankTrace {
      restore();
      const end = traceNow();
      for (const { event, op } of receives) {
        if (event.end >= 0) continue;
        event.unwaited = true;
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

function wrapTransport(t: Transport, events: RawCommEvent[], receives: { event: RawCommEvent; op: TransportOp }[]): () => void {
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
    return watched(op, event);
  };
  t.wait = async (ready, waitingIn) => {
    const start = traceNow();
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
      events.push({ call: 'wait', peer: -1, context: -1, tag: -1, bytes: 0, start, end: traceNow(), label: 'spinning for a message' });
      return done;
    };
  }
  return () => Object.assign(t, own);
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

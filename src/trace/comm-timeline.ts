/**
 * The kernel side of %%mpirun --timeline: every rank's trace (comm-rank.ts) put on rank 0's
 * clock, each send paired with the receive that matched it (the n-th message from s to d with
 * one context and tag is the n-th that d received from s with them: MPI's non-overtaking
 * rule), compute as the time between waits, the communication matrix, and the figures.
 */
import type { PlotlyFigure } from '../display/plotly.js';
import type { Row } from '../display/table.js';
import type { RankTrace } from './comm-rank.js';
import { ganttFigure } from './gantt.js';
import type { CommRecord, ComputeRecord, TraceRecord } from './records.js';
import { summarise, unionLength, type TraceSummary } from './summary.js';

const kMaxLines = 4000;

export interface MessagePair {
  readonly send: CommRecord;
  readonly recv: CommRecord;
}

export interface RankRow {
  readonly rank: number;
  /** Of the rank's own run time (its start to its end); waiting is the rest. */
  readonly computePct: number;
  readonly waitingPct: number;
  readonly messagesSent: number;
  readonly bytesSent: number;
  readonly messagesReceived: number;
  readonly bytesReceived: number;
}

export class CommTimeline {
  readonly records: readonly TraceRecord[];
  readonly messages: readonly MessagePair[];
  /** Sends that no receive matched (still in flight when the rank finished). */
  readonly unmatched: readonly CommRecord[];
  /** bytes[s][d] and count[s][d]: what rank s sent rank d. */
  readonly bytes: readonly (readonly number[])[];
  readonly count: readonly (readonly number[])[];
  readonly start: number;
  readonly end: number;
  readonly summary: TraceSummary;
  readonly ranks: readonly RankRow[];

  constructor(traces: readonly RankTrace[]) {
    const size = traces.length;
    const offsets = traces.find((t) => t.offsets)?.offsets ?? new Array<number>(size).fill(0);
    const records: TraceRecord[] = [];
    const sends = new Map<string, CommRecord[]>();
    const recvs = new Map<string, CommRecord[]>();
    const at = new Map<CommRecord, number>(); // where each send and receive sits in records
    const bump = (m: Map<string, CommRecord[]>, key: string, r: CommRecord) => (m.get(key) ?? m.set(key, []).get(key)!).push(r);
    let start = Infinity;
    let end = -Infinity;
    for (const trace of traces) {
      const shift = -(offsets[trace.rank] ?? 0);
      const rank = trace.rank;
      const row = `rank ${rank}`;
      const seqs = new Map<string, number>();
      const waits: [number, number][] = [];
      for (const e of trace.events) {
        const s = e.start + shift;
        const t = e.end + shift;
        if (e.call === 'wait') {
          waits.push([s, t]);
          records.push({ kind: 'comm', row, rank, call: 'wait', peer: -1, tag: -1, bytes: 0, seq: -1, label: e.label ?? 'waiting', start: s, end: t });
          continue;
        }
        const sending = e.call === 'send';
        const key = sending ? `${rank}>${e.peer}:${e.context}:${e.tag}` : `${e.peer}>${rank}:${e.context}:${e.tag}`;
        const seq = seqs.get(key) ?? 0;
        seqs.set(key, seq + 1);
        const what = e.context % 2 === 1 ? ' (in a collective)' : '';
        const label = e.unwaited
          ? `irecv from rank ${e.peer}, tag ${e.tag}: never waited for`
          : sending
            ? `send to rank ${e.peer}, tag ${e.tag}${what}`
            : `recv from rank ${e.peer}, tag ${e.tag}${what}`;
        const record: CommRecord = { kind: 'comm', row, rank, call: e.call, peer: e.peer, tag: e.tag, bytes: e.bytes, seq, label, start: s, end: t, ...(what ? { collective: true } : {}), ...(e.unwaited ? { unwaited: true } : {}) };
        at.set(record, records.push(record) - 1);
        if (e.unwaited && e.peer < 0) continue; // never matched anything
        bump(sending ? sends : recvs, key, record);
      }
      const from = trace.start + shift;
      const to = trace.end + shift;
      start = Math.min(start, from);
      end = Math.max(end, to);
      records.push(...computeBetween(rank, row, from, to, waits));
    }
    const messages: MessagePair[] = [];
    const unmatched: CommRecord[] = [];
    const bytes = Array.from({ length: size }, () => new Array<number>(size).fill(0));
    const count = Array.from({ length: size }, () => new Array<number>(size).fill(0));
    for (const [key, list] of sends) {
      const got = recvs.get(key) ?? [];
      list.forEach((send, i) => {
        const recv = got[i];
        if (!recv) {
          unmatched.push(send);
          return;
        }
        // An object's size is known to its receiver only.
        const n = send.bytes >= 0 ? send.bytes : recv.bytes;
        const fixed = n === send.bytes ? send : { ...send, bytes: n };
        if (fixed !== send) records[at.get(send)!] = fixed;
        messages.push({ send: fixed, recv });
        bytes[send.rank]![send.peer]! += n;
        count[send.rank]![send.peer]! += 1;
      });
    }
    // What the measured offsets leave (at most half a round trip): a receive seen to complete
    // before its send was posted moves its rank later, as far as its own sends allow.
    const shifts = causalShifts(messages, size);
    if (shifts.some((d) => d !== 0)) {
      const moved = new Map<TraceRecord, TraceRecord>();
      const move = <T extends TraceRecord>(r: T): T => {
        const d = 'rank' in r ? shifts[r.rank]! : 0;
        if (d === 0) return r;
        const m = moved.get(r) ?? { ...r, start: r.start + d, end: r.end + d };
        moved.set(r, m);
        return m as T;
      };
      records.splice(0, records.length, ...records.map(move));
      messages.splice(0, messages.length, ...messages.map((p) => ({ send: move(p.send), recv: move(p.recv) })));
      start = Math.min(...records.map((r) => r.start));
      end = Math.max(...records.map((r) => r.end));
    }
    this.records = records;
    this.messages = messages;
    this.unmatched = unmatched;
    this.bytes = bytes;
    this.count = count;
    this.start = start;
    this.end = end;
    this.summary = summarise(records, start, end);
    this.ranks = traces.map((t) => {
      // Shares of the rank's own run (from its start to its end), so compute + waiting = 100%.
      const mine = records.filter((r) => 'rank' in r && r.rank === t.rank);
      const from = Math.min(...mine.map((r) => r.start));
      const to = Math.max(...mine.map((r) => r.end));
      const computed = unionLength(mine.filter((r) => r.kind === 'compute').map((r) => [r.start, r.end]), from, to);
      const computePct = to > from ? (100 * computed) / (to - from) : 0;
      return {
        rank: t.rank,
        computePct,
        waitingPct: to > from ? 100 - computePct : 0,
        messagesSent: count[t.rank]!.reduce((a, b) => a + b, 0),
        bytesSent: bytes[t.rank]!.reduce((a, b) => a + b, 0),
        messagesReceived: count.reduce((a, c) => a + c[t.rank]!, 0),
        bytesReceived: bytes.reduce((a, c) => a + c[t.rank]!, 0),
      };
    });
  }

  /** Gantt: compute and waiting per rank, a line from each send to the receive that matched it. */
  figure(title = 'Ranks: compute, waiting and messages'): PlotlyFigure {
    const ms = (t: number) => t - this.start;
    const x: (number | null)[] = [];
    const y: (string | null)[] = [];
    const text: (string | null)[] = [];
    // A long run draws its first messages only (as ganttFigure draws its first bars).
    const shown = this.messages.length > kMaxLines ? [...this.messages].sort((a, b) => a.send.start - b.send.start).slice(0, kMaxLines) : this.messages;
    for (const { send, recv } of shown) {
      const what = `rank ${send.rank} → rank ${recv.rank}, tag ${send.tag}, ${send.bytes} B`;
      x.push(ms(send.start), ms(recv.end), null);
      y.push(send.row, recv.row, null);
      text.push(`sent: ${what}`, `received: ${what}`, null);
    }
    const lines = { type: 'scatter', mode: 'lines+markers', name: 'message', x, y, text, hoverinfo: 'text', line: { color: 'rgba(60,60,60,0.6)', width: 1 }, marker: { size: 4 } };
    return ganttFigure(this.records, { title, origin: this.start, rowTitle: 'rank', overlays: [lines] });
  }

  /** Heatmap of bytes from each sender (rows) to each receiver (columns), messages on hover. */
  matrixFigure(title = 'Communication matrix (bytes sent)'): PlotlyFigure {
    const ranks = this.bytes.map((_, i) => `rank ${i}`);
    return {
      data: [
        {
          type: 'heatmap',
          z: this.bytes,
          x: ranks,
          y: ranks,
          text: this.count.map((row, s) => row.map((n, d) => `rank ${s} → rank ${d}: ${this.bytes[s]![d]} B in ${n} message(s)`)),
          hoverinfo: 'text',
          colorscale: 'Blues',
          colorbar: { title: { text: 'bytes' } },
        },
      ],
      layout: {
        title: { text: title },
        xaxis: { title: { text: 'receiver' }, type: 'category' },
        yaxis: { title: { text: 'sender' }, type: 'category', autorange: 'reversed' },
        height: Math.max(300, 120 + 50 * ranks.length),
      },
    };
  }

  tableRows(): Row[] {
    return this.ranks.map((r) => ({
      rank: r.rank,
      'compute %': `${r.computePct.toFixed(1)}%`,
      'waiting %': `${r.waitingPct.toFixed(1)}%`,
      'messages sent': r.messagesSent,
      'bytes sent': r.bytesSent,
      'messages received': r.messagesReceived,
      'bytes received': r.bytesReceived,
    }));
  }

  describe(): string {
    const unwaited = this.records.filter((r) => r.kind === 'comm' && r.unwaited).length;
    return (
      `wall ${(this.end - this.start).toFixed(3)} ms; ${this.messages.length} message(s), ${this.bytes.flat().reduce((a, b) => a + b, 0)} B; ` +
      `parallel efficiency (compute / (wall × ranks)) ${(100 * this.summary.efficiency).toFixed(1)}%` +
      (unwaited > 0 ? `; ${unwaited} receive(s) never waited for` : '')
    );
  }
}

/** The rank's time in [from, to] outside its waits. */
function computeBetween(rank: number, row: string, from: number, to: number, waits: [number, number][]): ComputeRecord[] {
  const out: ComputeRecord[] = [];
  let at = from;
  for (const [a, b] of [...waits].sort((p, q) => p[0] - q[0])) {
    if (a > at) out.push({ kind: 'compute', row, rank, label: 'compute', start: at, end: Math.min(a, to) });
    at = Math.max(at, b);
  }
  if (to > at) out.push({ kind: 'compute', row, rank, label: 'compute', start: at, end: to });
  return out;
}

/** Per-rank clock corrections (ms) so that no receive completes before its send was posted. */
function causalShifts(messages: readonly MessagePair[], size: number): number[] {
  const shift = new Array<number>(size).fill(0);
  for (let round = 0; round < 8; round++) {
    let changed = false;
    for (let d = 1; d < size; d++) {
      // How much earlier than its send a message into d (out of d) is seen to arrive; ≤ 0 when causal.
      let into = -Infinity;
      let out = -Infinity;
      for (const { send, recv } of messages) {
        const early = send.start + shift[send.rank]! - (recv.end + shift[recv.rank]!);
        if (recv.rank === d && send.rank !== d) into = Math.max(into, early);
        if (send.rank === d && recv.rank !== d) out = Math.max(out, early);
      }
      // Later by what arrives too early, as far as d's own sends allow; or earlier, likewise.
      const by = into > 0 ? Math.min(into, Math.max(0, -out)) : out > 0 ? -Math.min(out, Math.max(0, -into)) : 0;
      if (by !== 0) {
        shift[d]! += by;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return shift;
}

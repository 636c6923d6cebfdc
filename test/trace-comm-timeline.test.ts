/**
 * CommTimeline on hand-made rank traces (what comm-rank.ts records): sends are paired with
 * receives by MPI's non-overtaking rule, objects' sizes come from the receiver, the matrix adds
 * up, and clocks that the measured offsets left wrong are corrected so that no message arrives
 * before it was sent.
 */
import { describe, expect, it } from 'vitest';
import type { RankTrace, RawCommEvent } from '../dist/src/trace/comm-rank.js';
import { CommTimeline } from '../dist/src/trace/comm-timeline.js';

const send = (peer: number, tag: number, bytes: number, at: number): RawCommEvent => ({ call: 'send', peer, context: 0, tag, bytes, start: at, end: at });
const recv = (peer: number, tag: number, bytes: number, start: number, end: number): RawCommEvent => ({ call: 'recv', peer, context: 0, tag, bytes, start, end, waited: true });
const wait = (start: number, end: number): RawCommEvent => ({ call: 'wait', peer: -1, context: -1, tag: -1, bytes: 0, start, end, label: 'recv(source=0, tag=0)' });

describe('CommTimeline', () => {
  it('pairs the n-th send with the n-th receive of the same sender, receiver and tag', () => {
    const traces: RankTrace[] = [
      { rank: 0, start: 0, end: 10, events: [send(1, 0, 8, 1), send(1, 7, -1, 2), send(1, 0, 16, 3)], offsets: [0, 0] },
      { rank: 1, start: 0, end: 10, events: [recv(0, 7, 5, 1, 4), wait(1, 4), recv(0, 0, 8, 4, 5), recv(0, 0, 16, 5, 6)] },
    ];
    const tl = new CommTimeline(traces);
    expect(tl.messages.map((p) => [p.send.tag, p.send.bytes, p.recv.start])).toEqual([
      [0, 8, 4],
      [0, 16, 5],
      [7, 5, 1],
    ]);
    expect(tl.unmatched).toEqual([]);
    expect(tl.bytes).toEqual([[0, 29], [0, 0]]);
    expect(tl.count).toEqual([[0, 3], [0, 0]]);
    // Compute is the rank's time between its waits.
    const compute = tl.records.filter((r) => r.kind === 'compute' && r.rank === 1).map((r) => [r.start, r.end]);
    expect(compute).toEqual([[0, 1], [4, 10]]);
    expect(tl.ranks.map((r) => Math.round(r.computePct + r.waitingPct))).toEqual([100, 100]);
  });

  it('moves a rank whose clock was misjudged, so every message arrives after it was sent', () => {
    // Rank 1's clock runs 5 ms ahead of rank 0's, but the ping-pong measured 4 ms: its receives look 1 ms early.
    const traces: RankTrace[] = [
      { rank: 0, start: 0, end: 20, events: [send(1, 0, 8, 10), recv(1, 1, 8, 11, 12.6)], offsets: [0, 4] },
      { rank: 1, start: 5, end: 25, events: [recv(0, 0, 8, 5, 13.5), send(0, 1, 8, 16)] },
    ];
    const tl = new CommTimeline(traces);
    for (const p of tl.messages) expect(p.recv.end).toBeGreaterThanOrEqual(p.send.start);
    expect(tl.messages).toHaveLength(2);
    // Rank 1 moved by exactly what was missing (0.5 ms), and no further than its own send allows.
    const r1 = tl.messages.find((p) => p.recv.rank === 1)!.recv;
    expect(r1.end).toBeCloseTo(10, 9);
  });

  it('marks a receive nobody waited for and leaves a send without a receive unmatched', () => {
    const traces: RankTrace[] = [
      { rank: 0, start: 0, end: 10, events: [send(1, 3, 8, 1), send(1, 4, 8, 2)], offsets: [0, 0] },
      { rank: 1, start: 0, end: 10, events: [{ ...recv(0, 3, 8, 1, 2), waited: false, unwaited: true }] },
    ];
    const tl = new CommTimeline(traces);
    expect(tl.records.filter((r) => r.kind === 'comm' && r.unwaited).map((r) => r.label)).toEqual(['irecv from rank 0, tag 3: never waited for']);
    expect(tl.unmatched.map((s) => s.tag)).toEqual([4]);
    expect(tl.describe()).toMatch(/1 receive\(s\) never waited for$/);
  });
});

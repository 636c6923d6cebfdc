/**
 * %%mpirun --timeline through a real kernel, on every backend: the records themselves. Every
 * send is matched with the receive that got it, the communication matrix adds up to the bytes
 * sent, no message is received before it was sent once the ranks' clocks are aligned, compute
 * and waiting split each rank's time, and an Irecv nobody waited for is shown as such. --out
 * and the cell's line numbers work as without --timeline.
 */
import { describe, expect, it } from 'vitest';
import { backends } from './fixtures/comm/backends.js';
import { useKernelSession, type KernelSession, type Run } from './helpers/kernel-session.js';

type Json = Record<string, unknown>;
const figures = (r: Run) =>
  r.displays.map((d) => (d.content.data as Json)['application/vnd.plotly.v1+json'] as { data: Json[]; layout: Json } | undefined).filter((f) => f !== undefined);

/** Ranks 0 → 1 a typed array (tag 5), 0 → 2 an object, then an allreduce; rank 1 leaves an Irecv unwaited. */
const kCell = [
  'const x = new Float64Array(1000).fill(rank);',
  'if (rank === 0) {',
  '  await comm.Send(x, 1, 5);',
  '  await comm.send({ hello: "two" }, 2, 6);',
  '  await comm.Send(x.subarray(0, 10), 1, 9);',
  '} else if (rank === 1) {',
  '  await comm.Recv(x, 0, 5);',
  '  comm.Irecv(new Float64Array(10), 0, 9);',
  '} else {',
  '  await comm.recv(0, 6);',
  '}',
  'const total = await comm.allreduce(x[0]!);',
].join('\n');

const kFacts = `JSON.stringify({
  unmatched: tl.unmatched.length,
  messages: tl.messages.length,
  causal: tl.messages.every((p) => p.recv.end >= p.send.start),
  pairs: tl.messages.every((p) => p.send.rank === p.recv.peer && p.recv.rank === p.send.peer && p.send.tag === p.recv.tag && p.send.bytes === p.recv.bytes),
  matrix: tl.bytes.flat().reduce((a, b) => a + b, 0),
  sent: tl.records.reduce((n, r) => n + (r.kind === 'comm' && r.call === 'send' && tl.messages.some((p) => p.send === r) ? r.bytes : 0), 0),
  counted: tl.count.flat().reduce((a, b) => a + b, 0),
  tag5: tl.messages.filter((p) => p.send.tag === 5 && !p.send.collective).map((p) => [p.send.rank, p.recv.rank, p.send.bytes]),
  tag6: tl.messages.filter((p) => p.send.tag === 6 && !p.send.collective).map((p) => [p.send.rank, p.recv.rank]),
  unwaited: tl.records.flatMap((r) => (r.kind === 'comm' && r.unwaited ? [[r.rank, r.peer, r.tag]] : [])),
  shares: tl.ranks.map((r) => Math.round(r.computePct + r.waitingPct)),
  collective: tl.messages.filter((p) => p.send.collective).length,
  rows: [...new Set(tl.records.map((r) => r.row))].sort(),
})`;

/** The facts kFacts computes from the bound trace, checked as every traced run of kCell must give them. */
async function traceFacts(k: KernelSession): Promise<Json> {
  const facts = JSON.parse((await k.run(kFacts)).result!) as Json;
  expect(facts.unmatched).toBe(0);
  expect(facts.causal).toBe(true);
  expect(facts.pairs).toBe(true);
  expect(facts.matrix).toBe(facts.sent);
  expect(facts.counted).toBe(facts.messages);
  expect(facts.tag5).toEqual([[0, 1, 8000]]);
  expect(facts.tag6).toEqual([[0, 2]]);
  expect(facts.unwaited).toEqual([[1, 0, 9]]);
  expect(facts.shares).toEqual([100, 100, 100]);
  return facts;
}

describe('%%mpirun --timeline in the kernel', () => {
  const k = useKernelSession();

  for (const backend of backends) {
    it(`traces compute, waits and every message on the ${backend} backend`, async () => {
      const r = await k.run(`%%mpirun -np 3 --backend ${backend} --timeline-out tl --out total@all\n${kCell}`, 180_000);
      expect(r.error).toBeUndefined();
      const [gantt, matrix] = figures(r);
      expect(gantt!.data.map((t) => t.name)).toEqual(expect.arrayContaining(['compute', 'waiting in communication', 'receive never waited for', 'message']));
      expect(matrix!.data[0]!.type).toBe('heatmap');
      const table = r.displays.map((d) => d.content.data as Json).find((b) => String(b['text/html'] ?? '').startsWith('<table'));
      expect(String(table?.['text/plain'])).toMatch(/rank +compute % +waiting % +messages sent +bytes sent/);
      expect(String(table?.['text/plain'])).toMatch(/1 receive\(s\) never waited for/);

      const facts = await traceFacts(k);
      expect(facts.collective).toBeGreaterThanOrEqual(2); // the allreduce's own messages
      expect(facts.rows).toEqual(['rank 0', 'rank 1', 'rank 2']);
      // The matrix heatmap shows the same numbers.
      expect((matrix!.data[0]!.z as number[][])[0]![1]).toBeGreaterThanOrEqual(8000);
      // --out still brings the values back, without the trace (rank 1's x came from rank 0).
      expect((await k.run('JSON.stringify(total)')).result).toBe('[2,2,2]');
    });
  }

  for (const backend of backends) {
    it(`traces a session cell on the ${backend} backend, and the session's next cells untraced`, async () => {
      expect((await k.run(`%mpirun --session -np 3 --backend ${backend}`)).error).toBeUndefined();
      expect((await k.run('%%mpirun\nconst before = rank * 2;')).error).toBeUndefined();
      const r = await k.run(`%%mpirun --timeline-out tl --out total@all\n${kCell}\nconst seen = before;`, 180_000);
      expect(r.error).toBeUndefined();
      const [gantt, matrix] = figures(r);
      expect(gantt!.data.map((t) => t.name)).toEqual(expect.arrayContaining(['compute', 'waiting in communication', 'message']));
      expect(matrix!.data[0]!.type).toBe('heatmap');
      const facts = await traceFacts(k);
      expect(facts.rows).toEqual(['rank 0', 'rank 1', 'rank 2']);
      expect((await k.run('JSON.stringify(total)')).result).toBe('[2,2,2]');
      const failed = await k.run('%%mpirun --timeline\nif (rank === 1) throw new RangeError("traced failure");\nawait comm.recv(1, 77);');
      expect(failed.error?.evalue).toBe('rank 1: RangeError: traced failure');
      expect(failed.displays).toHaveLength(0);
      // The session goes on, untraced, with what the traced cell declared.
      const next = await k.run('%%mpirun --out after@all\nconst after = [seen, x[0], await comm.allreduce(1)];');
      expect(next.error).toBeUndefined();
      expect(next.displays).toHaveLength(0);
      expect((await k.run('JSON.stringify(after)')).result).toBe('[[0,0,3],[2,0,3],[4,2,3]]');
      expect((await k.run('%mpirun --close')).error).toBeUndefined();
    });
  }

  it('keeps the cell\'s line numbers in errors and traces nothing without --timeline', async () => {
    const r = await k.run("%%mpirun -np 2 --timeline\nconst a = 1;\nif (rank === 1) throw new RangeError('bad rank');\nawait comm.recv(1);");
    expect(r.error?.evalue).toBe('rank 1: RangeError: bad rank');
    expect(r.error?.traceback).toMatch(/line 3/);
    const plain = await k.run('%%mpirun -np 2\nawait comm.allreduce(rank);');
    expect(plain.error).toBeUndefined();
    expect(plain.displays).toHaveLength(0);
    const bad = await k.run('%%mpirun -np 2 --timeline-out 9x\n1');
    expect(bad.error?.evalue).toMatch(/--timeline-out 9x is not a variable name/);
  });
});

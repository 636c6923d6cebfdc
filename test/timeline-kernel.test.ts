/**
 * %%timeline through a real kernel: the records themselves (every pool task and every prange
 * iteration accounted for exactly once, in time order, busy never above wall), the Gantt figure
 * and the summary table it displays, both pool backends, and tracing off again afterwards.
 */
import { describe, expect, it } from 'vitest';
import { useKernelSession, type Run } from './helpers/kernel-session.js';

type Json = Record<string, unknown>;

function figureOf(r: Run): { data: Json[]; layout: Json } {
  const bundle = r.displays.map((d) => d.content.data as Json).find((b) => b['application/vnd.plotly.v1+json']);
  expect(bundle, 'a plotly figure is displayed').toBeDefined();
  return bundle!['application/vnd.plotly.v1+json'] as { data: Json[]; layout: Json };
}

function tableOf(r: Run): string {
  const bundle = r.displays.map((d) => d.content.data as Json).find((b) => String(b['text/html'] ?? '').startsWith('<table'));
  expect(bundle, 'a summary table is displayed').toBeDefined();
  return String(bundle!['text/plain']);
}

async function json(k: ReturnType<typeof useKernelSession>, code: string): Promise<Json> {
  const r = await k.run(code);
  expect(r.error).toBeUndefined();
  return JSON.parse(JSON.parse(r.result!)) as Json;
}

/** Facts about the pool tasks of timeline `name`, computed in the kernel from the bound records. */
const poolFacts = (name: string) => `
const tasks = ${name}.records.flatMap((r) => (r.kind === 'task' ? [r] : []));
const moves = ${name}.records.flatMap((r) => (r.kind === 'transfer' ? [r] : []));
JSON.stringify(JSON.stringify({
  indices: tasks.map((t) => t.index).sort((a, b) => a - b),
  rows: [...new Set(tasks.map((t) => t.row))].sort(),
  ordered: tasks.every((t) => t.queued <= t.start && t.start <= t.end),
  inside: ${name}.records.every((r) => r.start >= ${name}.start && r.end <= ${name}.end),
  transfersPerBatch: new Set(tasks.map((t) => t.batch)).size * 2 === moves.length,
  busyWithinWall: ${name}.summary.rows.every((r) => r.busyMs <= ${name}.summary.wallMs),
  efficiency: ${name}.summary.efficiency,
  rowItems: ${name}.summary.rows.reduce((n, r) => n + r.items, 0),
}))`;

const kMap = 'await pool.map((x: number) => { let s = 0; for (let i = 0; i < 2e5; i++) s += Math.sqrt(i); return x + (s > 0 ? 0 : 1); }, [...Array(40).keys()], { chunksize: 3 })';

describe('%%timeline in the kernel', () => {
  const k = useKernelSession();

  for (const backend of ['threads', 'processes'] as const) {
    it(`records every pool task once, on the ${backend} backend`, async () => {
      expect((await k.run(`%pool 2 --${backend}`)).status).toBe('ok');
      const r = await k.run(`%%timeline --out tl_${backend}\n${kMap}`);
      expect(r.error).toBeUndefined();
      expect(r.result?.replace(/\s+/g, ' ')).toContain('[ 0, 1, 2, 3,');
      const fig = figureOf(r);
      expect(fig.data.map((t) => t.name)).toEqual(expect.arrayContaining(['task', 'shipping data']));
      expect(new Set(fig.data.flatMap((t) => t.y as string[]))).toEqual(new Set(['worker 1', 'worker 2']));
      const text = tableOf(r);
      expect(text).toMatch(/worker 1/);
      expect(text).toMatch(/parallel efficiency \d+(\.\d)?%, overhead/);
      const facts = await json(k, poolFacts(`tl_${backend}`));
      expect(facts.indices).toEqual([...Array(40).keys()]);
      expect(facts.rows).toEqual(['worker 1', 'worker 2']);
      expect(facts.ordered).toBe(true);
      expect(facts.inside).toBe(true);
      expect(facts.transfersPerBatch).toBe(true);
      expect(facts.busyWithinWall).toBe(true);
      expect(facts.rowItems).toBe(40);
      expect(facts.efficiency).toBeGreaterThan(0);
      expect(facts.efficiency).toBeLessThanOrEqual(1);
    });
  }

  it('records each thread\'s chunks of %%parallel loops, covering every iteration once, and the barrier waits', async () => {
    const def = await k.run(
      '%%parallel -n 2\nfunction roots(n: number): number {\n  let s = 0;\n  for (const i of prange(n)) s += Math.sqrt(i);\n  return s;\n}\n' +
        'function uneven(n: number): number {\n  let s = 0;\n  for (const i of prange(n)) { for (let j = 0; j < i; j++) s += j; }\n  return s;\n}',
    );
    expect(def.error).toBeUndefined();
    const r = await k.run('%%timeline --out pt\nroots(1_000_000) + uneven(3000)');
    expect(r.error).toBeUndefined();
    const fig = figureOf(r);
    expect(new Set(fig.data.flatMap((t) => t.y as string[]))).toEqual(new Set(['thread 0', 'thread 1']));
    const facts = await json(
      k,
      `const loops = pt.records.flatMap((r) => (r.kind === 'loop' ? [r] : []));
const chunks = pt.records.flatMap((r) => (r.kind === 'chunk' ? [r] : []));
const idle = pt.records.flatMap((r) => (r.kind === 'idle' ? [r] : []));
JSON.stringify(JSON.stringify({
  loops: loops.map((l) => [l.iterations, l.threads]),
  covered: loops.map((l) => {
    const mine = chunks.filter((c) => c.loop === l.loop).sort((a, b) => a.lo - b.lo);
    let next = 0;
    for (const c of mine) { if (c.lo !== next) return false; next = c.hi; }
    return next === l.iterations;
  }),
  threads: loops.map((l) => [...new Set(chunks.filter((c) => c.loop === l.loop).map((c) => c.thread))].sort()),
  withinLoop: chunks.every((c) => { const l = loops.find((x) => x.loop === c.loop)!; return c.start >= l.start && c.end <= l.end && c.start <= c.end; }),
  idleToBarrier: idle.every((w) => w.end === loops.find((x) => x.loop === w.loop)!.end),
  busyWithinWall: pt.summary.rows.every((r) => r.busyMs <= pt.summary.wallMs),
}))`,
    );
    expect(facts.loops).toEqual([[1_000_000, 2], [3000, 2]]);
    expect(facts.covered).toEqual([true, true]);
    expect(facts.threads).toEqual([[0, 1], [0, 1]]);
    expect(facts.withinLoop).toBe(true);
    expect(facts.idleToBarrier).toBe(true);
    expect(facts.busyWithinWall).toBe(true);
  });

  it('merges nothing away under a dynamic schedule: every chunk counted', async () => {
    await k.run('%%parallel -n 2 --schedule dynamic,100\nfunction fill(xs: Float64Array): void {\n  for (const i of prange(xs.length)) xs[i] = i;\n}');
    await k.run('const xs = shared(Float64Array, 10_000);');
    const r = await k.run('%%timeline --out dyn\nfill(xs)');
    expect(r.error).toBeUndefined();
    const facts = await json(
      k,
      `const cs = dyn.records.flatMap((r) => (r.kind === 'chunk' ? [r] : []));
JSON.stringify(JSON.stringify({ chunks: cs.reduce((n, c) => n + c.chunks, 0), iterations: cs.reduce((n, c) => n + c.hi - c.lo, 0) }))`,
    );
    expect(facts).toEqual({ chunks: 100, iterations: 10_000 });
  });

  it('says when there is nothing to draw, rejects an empty cell and a bad --out, and turns tracing off after', async () => {
    const none = await k.run('%%timeline\n1 + 1');
    expect(none.result).toBe('2');
    expect(none.stderr).toMatch(/nothing to draw/);
    expect(none.displays).toHaveLength(0);
    const empty = await k.run('%%timeline\n');
    expect(empty.error?.evalue).toMatch(/cell body is empty/);
    const bad = await k.run('%%timeline --out 1x\nroots(10)');
    expect(bad.error?.evalue).toMatch(/--out 1x is not a variable name/);
    const failing = await k.run('%%timeline\nthrow new Error("boom")');
    expect(failing.error?.evalue).toBe('boom');
    const off = await k.run('import { activeTrace } from "tslab-parallel";\nactiveTrace() === null');
    expect(off.result).toBe('true');
  });

  it('documents itself with an example', async () => {
    const help = await k.run('%%timeline?');
    expect(help.stdout + (help.result ?? '')).toMatch(/--out NAME[\s\S]*Examples:[\s\S]*%%timeline/);
  });
});

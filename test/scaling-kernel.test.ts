/**
 * %scaling through a real kernel: every prange loop the expression reaches runs at each
 * requested thread count (whatever its -n), `x = %scaling` binds the result, the fit recovers
 * the serial fraction of a workload built to have one, the machine's ceiling is measured and
 * drawn, and bad input is one line.
 */
import { describe, expect, it } from 'vitest';
import { useKernelSession, type Run } from './helpers/kernel-session.js';

type Json = Record<string, unknown>;
const bundles = (r: Run) => r.displays.map((d) => d.content.data as Json);

describe('%scaling in the kernel', () => {
  const k = useKernelSession();

  it('runs the loops at each thread count, overriding -n, and binds the result', async () => {
    const def = await k.run('%%parallel -n 1\nfunction who(ids: Int32Array): void {\n  for (const i of prange(ids.length)) ids[i] = numThreads() * 100 + threadId();\n}');
    expect(def.error).toBeUndefined();
    await k.run('const ids = shared(Int32Array, 1000);\nconst seen: number[][] = [];');
    const r = await k.run('const s = %scaling -n 2 -r 2 --no-ceiling (who(ids), seen.push([...new Set(ids)].sort()))');
    expect(r.error).toBeUndefined();
    expect(r.stdout).toMatch(/^fitted serial fraction f = \d\.\d{3} /);
    // The warm-up at the most threads, then two rounds of 1 and 2 threads.
    const seen = await k.run('JSON.stringify(seen)');
    expect(JSON.parse(seen.result!)).toEqual([[200, 201], [100], [200, 201], [100], [200, 201]]);
    const rows = await k.run('JSON.stringify(s.rows.map((r) => [r.threads, r.speedup > 0, r.efficiency === r.speedup / r.threads]))');
    expect(JSON.parse(rows.result!)).toEqual([[1, true, true], [2, true, true]]);
    const after = await k.run('who(ids); [...new Set(ids)]');
    expect(after.result?.replace(/\s+/g, ' ')).toBe('[ 100 ]'); // its own -n 1 again
    const fig = bundles(r).find((b) => b['application/vnd.plotly.v1+json']);
    expect(fig).toBeDefined();
    const table = bundles(r).find((b) => String(b['text/html'] ?? '').startsWith('<table'));
    expect(String(table?.['text/plain'])).toMatch(/threads +time +speed-up +efficiency/);
  });

  it('recovers the serial fraction of a workload with a known one', async () => {
    // A synthetic workload: 0.25 of its time does not shrink with the threads, 0.75 does.
    const r = await k.run('const amd = %scaling -n 1,2,4 -r 3 --no-ceiling await sleep(600 * (0.25 + 0.75 / numThreads()))');
    expect(r.error).toBeUndefined();
    const f = await k.run('amd.serialFraction');
    expect(Math.abs(Number(f.result) - 0.25)).toBeLessThan(0.05);
  });

  it("measures the machine's ceiling once and draws it", async () => {
    const r = await k.run('%scaling -n 2 -r 1 who(ids)');
    expect(r.error).toBeUndefined();
    const fig = bundles(r).find((b) => b['application/vnd.plotly.v1+json'])!['application/vnd.plotly.v1+json'] as { data: Json[] };
    const ceiling = fig.data.find((t) => t.name === 'this machine (bare threads)');
    expect(ceiling?.x).toEqual([1, 2]);
    const speedup = (ceiling?.y as number[])[1]!;
    expect(speedup).toBeGreaterThan(0);
    const table = bundles(r).find((b) => String(b['text/html'] ?? '').startsWith('<table'));
    expect(String(table?.['text/plain'])).toMatch(/machine ceiling/);
    const again = await k.run('%scaling -n 2 -r 1 who(ids)');
    const fig2 = bundles(again).find((b) => b['application/vnd.plotly.v1+json'])!['application/vnd.plotly.v1+json'] as { data: Json[] };
    expect(fig2.data.find((t) => t.name === 'this machine (bare threads)')?.y).toEqual(ceiling?.y);
  });

  it('rejects bad input in one line and keeps the kernel', async () => {
    const bad = await k.run('%scaling -n 0,2 who(ids)');
    expect(bad.error?.ename).toBe('UsageError');
    expect(bad.error?.evalue).toMatch(/-n 0,2 is not a list of thread counts/);
    const none = await k.run('%scaling -n 2');
    expect(none.error?.evalue).toMatch(/needs an expression to time/);
    // An expression that throws fails the cell and leaves the thread count as it was.
    const before = (await k.run('numThreads()')).result;
    const throws = await k.run('%scaling -n 2 -r 1 --no-ceiling (() => { throw new RangeError("no scaling today"); })()');
    expect(throws.error?.evalue).toBe('no scaling today');
    expect((await k.run('numThreads()')).result).toBe(before);
    const help = await k.run('%scaling?');
    expect(help.stdout).toMatch(/Usage: %scaling[\s\S]*Examples:/);
    expect((await k.run('1 + 1')).result).toBe('2');
  });
});

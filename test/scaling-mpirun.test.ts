/**
 * %%mpirun -np 1,2,4 --scaling through a real kernel: the cell runs at each rank count, timed
 * on the ranks from a starting barrier, and the Amdahl fit recovers the serial fraction of a
 * workload built to have one; --out comes from the last run; lists without --scaling and
 * --scaling with --timeline are one-line usage errors.
 */
import { describe, expect, it } from 'vitest';
import { useKernelSession } from './helpers/kernel-session.js';

type Json = Record<string, unknown>;

describe('%%mpirun --scaling in the kernel', () => {
  const k = useKernelSession();

  it('runs the cell at each rank count and fits the serial fraction', async () => {
    // Synthetic: 0.3 of the time does not shrink with the ranks, 0.7 divides among them.
    const r = await k.run('%%mpirun -np 2,4 --scaling --repeat 2 --out got@all\nawait new Promise((done) => setTimeout(done, 500 * (0.3 + 0.7 / size)));\nconst got = size;', 180_000);
    expect(r.error).toBeUndefined();
    const f = /fitted serial fraction f = (\d\.\d{3})/.exec(r.stdout);
    expect(f).not.toBeNull();
    expect(Math.abs(Number(f![1]) - 0.3)).toBeLessThan(0.05);
    const fig = r.displays.map((d) => (d.content.data as Json)['application/vnd.plotly.v1+json'] as { data: Json[] } | undefined).find(Boolean)!;
    expect(fig.data.find((t) => t.name === 'measured')?.x).toEqual([1, 2, 4]);
    expect(fig.data.map((t) => t.name)).toEqual(expect.arrayContaining(['ideal (n×)', 'this machine (bare threads)']));
    const table = r.displays.map((d) => d.content.data as Json).find((b) => String(b['text/html'] ?? '').startsWith('<table'));
    expect(String(table?.['text/plain'])).toMatch(/ranks +time +speed-up +efficiency/);
    expect((await k.run('JSON.stringify(got)')).result).toBe('[4,4,4,4]');
  });

  it('rejects a list without --scaling, and --scaling with --timeline', async () => {
    const list = await k.run('%%mpirun -np 1,2\n1');
    expect(list.error?.ename).toBe('UsageError');
    expect(list.error?.evalue).toMatch(/-np 1,2 lists several rank counts; add --scaling/);
    const both = await k.run('%%mpirun -np 1,2 --scaling --timeline\n1');
    expect(both.error?.evalue).toMatch(/--scaling and --timeline cannot be used together/);
    const bad = await k.run('%%mpirun -np two\n1');
    expect(bad.error?.evalue).toMatch(/-np two must be a number of ranks from 1 to 256/);
    expect((await k.run('%%mpirun -np 2\nawait comm.allreduce(rank)')).error).toBeUndefined();
  });
});

/**
 * %pool in a real kernel: functions from earlier cells run on the pool, output is prefixed by
 * worker, an interrupt during a map ends the cell and the pool stays usable, a long map shows a
 * live progress display, and closing the pool or the kernel leaves no worker behind.
 */
import { describe, expect, it } from 'vitest';
import { descendants, survivors } from './helpers/process-tree.js';
import { useKernelSession } from './helpers/kernel-session.js';
import { delay } from './helpers/wait.js';

describe('%pool in the kernel', () => {
  const k = useKernelSession();

  it('starts a pool and reports its status', async () => {
    const r = await k.run('%pool 2');
    expect(r.status).toBe('ok');
    expect(r.stdout).toMatch(/pool: 2 thread workers/);
    const status = await k.run('%pool');
    expect(status.stdout).toMatch(/0 queued/);
  });

  it("maps a function from an earlier cell, with its helpers and constants, results in input order", async () => {
    await k.run('const offset = 10;\nfunction helper(x: number) { return x * x; }\nfunction work(x: number) {\n  console.log(`working on ${x}`);\n  return helper(x) + offset;\n}');
    const r = await k.run('await pool.map(work, [0, 1, 2, 3, 4, 5])');
    expect(r.status).toBe('ok');
    expect(r.result?.replace(/\s+/g, ' ')).toBe('[ 10, 11, 14, 19, 26, 35 ]');
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(6);
    for (const line of lines) expect(line).toMatch(/^\[worker [12]\] working on \d$/);
  });

  it('reports a task that throws with the worker, the input and the cell line', async () => {
    const r = await k.run('const check = (x: number) => {\n  if (x === 3) throw new RangeError(`no ${x}`);\n  return x;\n};\nawait pool.map(check, [1, 2, 3, 4])');
    expect(r.status).toBe('error');
    expect(r.error?.evalue).toMatch(/worker \d \(input #2: 3\): RangeError: no 3/);
    expect(r.error?.traceback).toMatch(/In\[\d+\], line 2/);
    const again = await k.run('await pool.map(check, [1, 2])');
    expect(again.result?.replace(/\s+/g, ' ')).toBe('[ 1, 2 ]');
  });

  it('ends a map with KeyboardInterrupt on interrupt, and the pool works afterwards', async () => {
    const pending = k.start('await pool.map((ms: number) => { const t = Date.now(); while (Date.now() - t < ms) {} return ms; }, [20000, 20000, 20000, 20000])');
    await delay(1500);
    await k.kernel.client.interrupt();
    const r = await pending;
    expect(r.status).toBe('error');
    expect(r.error?.ename).toBe('KeyboardInterrupt');
    const after = await k.run('await pool.map((x: number) => x + 1, [1, 2, 3])');
    expect(after.result?.replace(/\s+/g, ' ')).toBe('[ 2, 3, 4 ]');
  });

  it('shows a live progress display for a map longer than the threshold, finalised at the end', async () => {
    await k.run('%pool 2 --progress-after 0.3');
    const r = await k.run('await pool.map(async (i: number) => { await new Promise((r) => setTimeout(r, 100)); return i; }, [...Array(16).keys()], { chunksize: 1 })');
    expect(r.status).toBe('ok');
    expect(r.displays.length).toBeGreaterThanOrEqual(1);
    expect(r.updates.length).toBeGreaterThanOrEqual(1);
    const last = r.updates[r.updates.length - 1].content.data as Record<string, string>;
    expect(last['text/plain']).toMatch(/16\/16/);
  });

  it('replaces the pool with processes, each worker with its own pid', async () => {
    await k.run('%pool 2 --processes');
    const r = await k.run('new Set(await pool.map(() => process.pid, [...Array(8).keys()], { chunksize: 1 })).size');
    expect(Number(r.result)).toBeGreaterThanOrEqual(1);
    const kids = descendants(k.pid).filter((p) => /dist\/src\/pool\/entry\/process/.test(p.command));
    expect(kids.length).toBe(2);
    const pids = await k.run('(await pool.map(() => process.pid, [1])).every((p) => p !== process.pid)');
    expect(pids.result).toBe('true');
  });

  it('closes the pool and leaves no worker process behind', async () => {
    const before = descendants(k.pid).filter((p) => /pool\/entry\/process/.test(p.command));
    const r = await k.run('%pool --close');
    expect(r.stdout).toMatch(/closed/);
    expect(await survivors(before)).toEqual([]);
    const gone = await k.run('typeof pool');
    expect(gone.result).toBe('undefined');
  });

  it('ships notebook functions from a Pool made in a cell, not only from %pool', async () => {
    await k.run('const scale = 3;\nfunction triple(x: number) { return x * scale; }');
    const r = await k.run('import { Pool } from "tslab-parallel";\nconst own = new Pool({ workers: 2 });\nconst out = await own.map(triple, [1, 2, 3]);\nawait own.close();\nout');
    expect(r.status).toBe('ok');
    expect(r.result?.replace(/\s+/g, ' ')).toBe('[ 3, 6, 9 ]');
  });

  it('leaves no process behind when the kernel shuts down with a pool open', async () => {
    await k.run('%pool 2 --processes');
    const workers = descendants(k.pid);
    expect(workers.length).toBeGreaterThanOrEqual(2);
    await k.stop();
    expect(await survivors([...workers, k.pid])).toEqual([]);
  });
});

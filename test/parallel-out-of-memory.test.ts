/**
 * A team thread that exhausts its heap (limited here to 64 MiB) stops alone: the loop fails with
 * an error naming the thread, the loop and its line; the kernel, its variables and its team
 * (rebuilt, same number of threads) go on.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useKernelSession } from './helpers/kernel-session.js';

const threadsOf = (pid: number) => readdirSync(`/proc/${pid}/task`).length;

describe('%%parallel: a team thread out of memory', () => {
  const k = useKernelSession({ env: { ...process.env, TSLAB_PARALLEL_THREAD_HEAP_MB: '64' } });

  it('reports the loop and line, keeps the kernel and its variables, and rebuilds the team', async () => {
    await k.run('const keep = new Float64Array([1, 2, 3]);\nlet kept = "still here";');
    await k.run('%%parallel -n 2\nfunction add(n: number) {\n  let tot = 0;\n  for (const i of prange(n)) tot += i;\n  return tot;\n}');
    expect((await k.run('add(1000)')).result).toBe('499500');
    const threads = threadsOf(k.pid);

    const r = await k.run(`%%parallel -n 2
function hog(n: number) {
  let tot = 0;
  for (const i of prange(n)) {
    const junk: number[][] = [];
    if (threadId() === 1) for (;;) junk.push(new Array(100_000).fill(i));
    tot += junk.length;
  }
  return tot;
}
hog(2)`);
    expect(r.status).toBe('error');
    expect(r.error?.evalue).toMatch(
      /^thread 1 ran out of memory in the prange loop on line 4 \(its JS heap is limited to 64 MiB\), so it stopped\. The kernel and its variables are fine and the next loop starts a new team\./,
    );
    const after = await k.run('[keep[2], kept, add(1000)]');
    expect(after.result?.replace(/\s+/g, '')).toBe("[3,'stillhere',499500]");
    // The new team has as many threads as the old one: the dead one is not left behind.
    expect(threadsOf(k.pid)).toBe(threads);
  }, 120_000);
});

/**
 * The kernel's other threads that run user code: pool workers (threads backend) and thread
 * ranks. They have no limits of their own, so here every isolate gets a 512 MiB heap
 * (NODE_OPTIONS); the kernel must report their death and go on.
 */
describe('pool threads and thread ranks out of memory', () => {
  const k = useKernelSession({ env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=512' } });
  const hog = 'const junk: number[][] = []; for (;;) junk.push(new Array(100_000).fill(1));';

  it('a pool worker out of memory fails its task; the kernel and its variables live on', async () => {
    await k.run('const survivor = 42;');
    await k.run('%pool 2 --threads');
    const r = await k.run(`await pool.map((x: number) => { if (x === 1) { ${hog} } return x; }, [0, 1])`);
    expect(r.status).toBe('error');
    expect(`${r.error?.ename}: ${r.error?.evalue}`).toMatch(/memory/i);
    const after = await k.run('[survivor, ...(await pool.map((x: number) => x * 2, [1, 2]))]');
    expect(after.result?.replace(/\s+/g, '')).toBe('[42,2,4]');
    await k.run('%pool --close');
  }, 120_000);

  it('a thread rank out of memory fails the run; the kernel and its variables live on', async () => {
    const r = await k.run(`%%mpirun -np 2 --backend threads\nif (rank === 1) { ${hog} }\nawait comm.barrier();`);
    expect(r.status).toBe('error');
    expect(`${r.error?.evalue ?? ''} ${r.stderr}`).toMatch(/rank 1/);
    const after = await k.run('survivor + 1');
    expect(after.result).toBe('43');
  }, 120_000);
});

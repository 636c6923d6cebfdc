/** Start, resize, status, close: no thread or process outlives its pool. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Pool } from '../dist/src/pool/index.js';
import { backends, childPids, eventually, threadCount } from './fixtures/pool/helpers.js';

const quiet = { onOutput: () => undefined };

describe.each(backends)('lifecycle, %s', (backend) => {
  it('closing leaves no worker thread or process behind, even with calls running', async () => {
    const threadsBefore = threadCount();
    const childrenBefore = childPids();
    const pool = new Pool({ workers: 3, backend, ...quiet });
    await pool.ready();
    if (backend === 'threads') expect(threadCount()).toBeGreaterThanOrEqual(threadsBefore + 3);
    else expect(childPids().filter((p) => !childrenBefore.includes(p))).toHaveLength(3);
    const running = pool.map(async (x: number) => new Promise((r) => setTimeout(() => r(x), 10_000)), [1, 2, 3, 4]).catch((e: Error) => e);
    await pool.close();
    expect(await running).toHaveProperty('message', 'the pool is closed; start a new one (new Pool(), or %pool in a notebook)');
    await eventually(() => threadCount() === threadsBefore);
    expect(childPids().filter((p) => !childrenBefore.includes(p))).toEqual([]);
    await expect(pool.map((x: number) => x, [1])).rejects.toThrow('the pool is closed');
    expect(pool.closed).toBe(true);
  });

  it('resizes: grows with new worker ids, shrinks by retiring the highest', async () => {
    const childrenBefore = childPids();
    const pool = new Pool({ workers: 2, backend, ...quiet });
    try {
      await pool.resize(4);
      expect(pool.status()).toMatchObject({ workers: 4, workerIds: [1, 2, 3, 4] });
      const ids = await pool.map(
        async (x: number) => {
          await new Promise((r) => setTimeout(r, 100));
          return (globalThis as unknown as Record<symbol, { id: number }>)[Symbol.for('tslab-parallel.worker')]!.id + x * 0;
        },
        [0, 0, 0, 0],
        { chunksize: 1 },
      );
      expect(new Set(ids)).toEqual(new Set([1, 2, 3, 4]));
      await pool.resize(1);
      expect(pool.status()).toMatchObject({ workers: 1, workerIds: [1] });
      expect(await pool.map((x: number) => x * 2, [1, 2, 3])).toEqual([2, 4, 6]);
      if (backend === 'processes') expect(childPids().filter((p) => !childrenBefore.includes(p))).toHaveLength(1);
    } finally {
      await pool.close();
    }
  });

  it('runs in a plain Node program, which exits by itself after close()', async () => {
    const program = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'pool', 'plain-program.js'), backend], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    program.stdout.on('data', (d: Buffer) => (out += String(d)));
    const code = await new Promise<number | null>((resolve) => program.once('exit', resolve));
    expect(out).toBe('[10,20,30]\nclosed\n');
    expect(code).toBe(0);
  });

  it('reports status: backend, workers, tasks done, queued, utilisation', async () => {
    const pool = new Pool({ workers: 2, backend, name: 'mypool', ...quiet });
    try {
      await pool.map((x: number) => x, [1, 2, 3, 4, 5]);
      const s = pool.status();
      expect(s).toMatchObject({ backend, closed: false, workers: 2, workerIds: [1, 2], calls: 0, tasksDone: 5, tasksQueued: 0, tasksRunning: 0, busyWorkers: 0 });
      expect(s.utilisation).toBeGreaterThanOrEqual(0);
      expect(s.utilisation).toBeLessThanOrEqual(1);
      if (backend === 'processes') expect(s.pids.every((p) => typeof p === 'number' && p !== process.pid)).toBe(true);
      else expect(s.pids).toEqual([process.pid]);
      expect(String(pool)).toMatch(
        new RegExp(`^mypool: 2 ${backend === 'threads' ? 'thread' : 'process'} workers \\(ids 1, 2\\), pids? [\\d, ]+\\n  0 busy, 0 tasks running, 0 queued, 5 done, utilisation \\d+%$`),
      );
    } finally {
      await pool.close();
    }
    expect(String(pool)).toBe('mypool: closed');
  });
});

describe('process workers and their parent', () => {
  /** 'R', 'S', … from /proc, 'Z' for a zombie, undefined when gone. */
  const state = (pid: number): string | undefined => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2)[0];
    } catch {
      return undefined;
    }
  };
  const running = (pid: number): boolean => state(pid) !== undefined && state(pid) !== 'Z';

  it('ignore SIGINT (Jupyter signals the process group) and exit when the parent dies', async () => {
    const parent = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'pool', 'orphan-parent.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(String(d))));
      const pids = JSON.parse(line) as number[];
      expect(pids).toHaveLength(2);
      for (const pid of pids) process.kill(pid, 'SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(pids.map(running)).toEqual([true, true]);
      parent.kill('SIGKILL');
      await eventually(() => pids.every((pid) => !running(pid)));
    } finally {
      parent.kill('SIGKILL');
    }
  });
});

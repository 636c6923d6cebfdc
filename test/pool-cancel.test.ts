/**
 * Cancellation: a kernel interrupt (notifyKernelInterrupt) cancels queued and running tasks of
 * every call and restarts the busy workers; an AbortSignal does it for one call; a future
 * cancels only before it starts; breaking out of imap cancels the rest. The next call works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, Pool, PoolAbortError, PoolInterruptedError } from '../dist/src/pool/index.js';
import { notifyKernelInterrupt } from '../dist/src/util/interrupt.js';
import { backends } from './fixtures/pool/helpers.js';

/** Busy for a long time (CPU-bound: only terminating the worker stops it), after saying so. */
const busy = (x: number): number => {
  console.log('started', x);
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    /* spin */
  }
  return x;
};
/** Asleep for a long time (async: the worker's event loop keeps running). */
const asleep = async (x: number): Promise<number> => {
  console.log('started', x);
  await new Promise((resolve) => setTimeout(resolve, 60_000));
  return x;
};
const nap = async (x: number): Promise<number> => {
  await new Promise((resolve) => setTimeout(resolve, 300));
  return x;
};

/** Resolves when `count` tasks have printed "started". */
function startedWatcher(): { onOutput: (text: string) => void; started: (count: number) => Promise<void> } {
  let seen = 0;
  let waiters: { count: number; resolve: () => void }[] = [];
  return {
    onOutput: (text) => {
      seen += (text.match(/started/g) ?? []).length;
      waiters = waiters.filter((w) => (seen >= w.count ? (w.resolve(), false) : true));
    },
    started: (count) => new Promise<void>((resolve) => (seen >= count ? resolve() : waiters.push({ count, resolve }))),
  };
}

describe.each(backends)('cancellation, %s', (backend) => {
  const watch = startedWatcher();
  let pool: Pool;
  let startedSoFar = 0;
  const started = (n: number): Promise<void> => watch.started((startedSoFar += n));
  beforeAll(() => {
    pool = new Pool({ workers: 2, backend, onOutput: watch.onOutput });
  });
  afterAll(() => pool.close());

  it('a kernel interrupt during await pool.map ends every call with an interrupted error; the next call works', async () => {
    const mapping = pool.map(busy, [1, 2, 3, 4], { chunksize: 1 });
    const applying = pool.apply(asleep, 5);
    await started(2);
    notifyKernelInterrupt();
    await expect(mapping).rejects.toBeInstanceOf(PoolInterruptedError);
    await expect(applying).rejects.toBeInstanceOf(PoolInterruptedError);
    await expect(mapping).rejects.toThrow('map was interrupted: its queued tasks were dropped and the workers running its tasks were restarted');
    expect(pool.status()).toMatchObject({ calls: 0, tasksQueued: 0 });
    expect(await pool.map((x: number) => x * x, [1, 2, 3])).toEqual([1, 4, 9]);
  });

  it('an AbortSignal cancels its call only', async () => {
    const controller = new AbortController();
    const aborted = pool.with({ signal: controller.signal }).apply(asleep, 1);
    await started(1);
    const other = pool.apply(nap, 2);
    controller.abort(new Error('user stopped it'));
    const err = (await aborted.catch((e: unknown) => e)) as PoolAbortError;
    expect(err).toBeInstanceOf(PoolAbortError);
    expect(err.name).toBe('AbortError');
    expect((err.cause as Error).message).toBe('user stopped it');
    expect(await other).toBe(2);
    await expect(pool.map((x: number) => x, [1], { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(PoolAbortError);
    expect(await pool.map((x: number) => x + 1, [1, 2])).toEqual([2, 3]);
  });

  it('a future can be cancelled before it starts, not after', async () => {
    const one = new Pool({ workers: 1, backend, onOutput: () => undefined });
    try {
      const running = one.submit(nap, 1);
      const queued = one.submit(nap, 2);
      expect(queued.cancel()).toBe(true);
      expect(running.cancel()).toBe(false);
      await expect(queued.result()).rejects.toBeInstanceOf(CancelledError);
      expect(queued.cancelled()).toBe(true);
      expect(await running.result()).toBe(1);
      expect(running.done()).toBe(true);
    } finally {
      await one.close();
    }
  });

  it('breaking out of imap cancels the remaining tasks', async () => {
    const seen: number[] = [];
    for await (const r of pool.imap(nap, [1, 2, 3, 4, 5, 6, 7, 8])) {
      seen.push(r);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual([1, 2]);
    expect(pool.status()).toMatchObject({ calls: 0, tasksQueued: 0 });
    expect(await pool.map((x: number) => x * 2, [4])).toEqual([8]);
  });
});

/**
 * Large shared arrays are collected when they are garbage (src/parallel/shared.ts): V8 counts
 * an ArrayBuffer's memory towards collection but not a SharedArrayBuffer's, so a program that
 * allocates a 32 MiB shared array per round and drops it grew by 32 MiB a round, on one thread
 * and (through the workers' copies) on two. 40 rounds, in a fresh process each. And a large one
 * comes with its pages resident when the shm addon is built (src/util/shm-addon.ts).
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { shmAddonBuilt } from '../dist/src/util/shm-addon.js';

const fixtures = path.join(__dirname, 'fixtures', 'parallel');

function runFixture<T>(name: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(fixtures, name), ...args], { timeout: 60_000, cwd: fixtures, env }, (err, out) => {
      if (err) reject(err);
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!));
    });
  });
}

const churn = (threads: number) => runFixture<{ growthMiB: number; sum: number }>('shared-churn.js', [String(threads)]);
const resident = (env: NodeJS.ProcessEnv) => runFixture<{ residentMiB: number; zeros: boolean; last: number; isShared: boolean }>('shared-resident.js', [], env);

describe('large shared arrays', () => {
  it.each([1, 2])('are collected when dropped, on %i thread(s): resident memory stays bounded', async (threads) => {
    const { growthMiB, sum } = await churn(threads);
    expect(sum).toBe(40 * ((32 << 20) / 8 - 1));
    // Without collection: 38 rounds × 32 MiB = 1216 MiB more.
    expect(growthMiB).toBeLessThan(400);
  });
});

describe('a large shared array', () => {
  // CI builds the addon (scripts/install-project.sh); without it shared() falls back, as tested below.
  it.skipIf(!shmAddonBuilt())('comes with its pages resident when the shm addon is built (one system call, not a page fault per 4 KiB)', async () => {
    const got = await resident(process.env);
    expect(got).toEqual({ residentMiB: got.residentMiB, zeros: true, last: (32 << 20) / 8 - 1, isShared: true });
    expect(got.residentMiB).toBeGreaterThanOrEqual(30);
  });

  it('without the addon (TSLAB_PARALLEL_SHM=0) is a plain SharedArrayBuffer whose pages come as they are touched', async () => {
    const got = await resident({ ...process.env, TSLAB_PARALLEL_SHM: '0' });
    expect(got).toEqual({ residentMiB: got.residentMiB, zeros: true, last: (32 << 20) / 8 - 1, isShared: true });
    expect(got.residentMiB).toBeLessThan(8);
  });
});

/**
 * Large shared arrays are collected when they are garbage (src/parallel/shared.ts): V8 counts
 * an ArrayBuffer's memory towards collection but not a SharedArrayBuffer's, so a program that
 * allocates a 32 MiB shared array per round and drops it grew by 32 MiB a round, on one thread
 * and (through the workers' copies) on two. 40 rounds, in a fresh process each.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const program = path.join(__dirname, 'fixtures', 'parallel', 'shared-churn.js');

function churn(threads: number): Promise<{ growthMiB: number; sum: number }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [program, String(threads)], { timeout: 60_000, cwd: path.dirname(program) }, (err, out) => {
      if (err) reject(err);
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!));
    });
  });
}

describe('large shared arrays', () => {
  it.each([1, 2])('are collected when dropped, on %i thread(s): resident memory stays bounded', async (threads) => {
    const { growthMiB, sum } = await churn(threads);
    expect(sum).toBe(40 * ((32 << 20) / 8 - 1));
    // Without collection: 38 rounds × 32 MiB = 1216 MiB more.
    expect(growthMiB).toBeLessThan(400);
  });
});

/** Waiting for something a kernel does (a file it writes, a condition), without timing assertions. */
import { existsSync } from 'node:fs';

/** Polls `check` until it is true; throws with `what` if it is not within `timeoutMs`. */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until `path` exists (a cell writes it to say it got that far). */
export function waitForFile(path: string, timeoutMs = 30_000): Promise<void> {
  return waitUntil(() => existsSync(path), `the file ${path}`, timeoutMs);
}

/** Resolves after `ms` (to let a cell get stuck; never used to assert speed). */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** TypeScript source that creates `path` (a marker a cell writes when it reaches that point). */
export function touch(path: string): string {
  return `require("fs").writeFileSync(${JSON.stringify(path)}, "")`;
}

/**
 * Soak: 1,000 executions in one kernel (results, streams, displays, errors, declarations), every
 * one answered correctly, with the kernel's memory read from inside it before and after.
 *
 * The bounds, and why a real leak breaks them:
 * - Live heap (after full garbage collections) may grow by at most 24 MiB, 24 KiB per execution.
 *   What the kernel keeps on purpose per cell is small: its input in the history, its source
 *   map and script for tracebacks (~5–12 KB for these one-line cells, measured). Keeping
 *   anything an execution makes — its messages and outputs, its compiled TypeScript program
 *   (tens of MB), its type-checker state — costs far more than 24 KiB per execution.
 * - The main thread's memory outside the heap (Buffers, ArrayBuffers: captured output, shell
 *   output chunks) may grow by at most 8 MiB: keeping a few KiB of them per execution breaks it.
 * - RSS is reported before and after, and bounded where it is steady: over the second 500
 *   executions it may grow by at most 128 MiB. RSS rises in steps over the first few hundred
 *   executions (the type checker's garbage makes V8 and malloc reserve memory they keep: measured
 *   +80 to +330 MiB, more on a busy machine) and then stays flat (measured +10 to +40 MiB over
 *   the second 500), so a leak of 256 KB or more per execution anywhere in the process, on or off
 *   the heap (a checker program or its source files per cell: MBs each), breaks it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate, resultOf, start, streamOf, type KernelProcess } from './helpers/kernel.js';

let k: KernelProcess;
beforeAll(async () => {
  k = await start();
});
afterAll(async () => k?.stop());

interface Memory {
  rss: number;
  heapUsed: number;
  /** Buffers and ArrayBuffers: memory outside the heap. */
  external: number;
}

/** The kernel's memory, read inside it after full collections (gc exposed at run time, not by a flag). */
async function memory(): Promise<Memory> {
  const text = await evaluate(
    k,
    'require("v8").setFlagsFromString("--expose-gc");\n' +
      '{ const gc = require("vm").runInNewContext("gc") as () => void; gc(); gc(); }\n' +
      'JSON.stringify((({ rss, heapUsed, external, arrayBuffers }) => ({ rss, heapUsed, external: external + arrayBuffers }))(process.memoryUsage()))',
    { storeHistory: false },
  );
  return JSON.parse(String(text)) as Memory;
}

/** The cell of execution i: a mix of what notebooks do. */
function cell(i: number): { code: string; check: (r: Awaited<ReturnType<KernelProcess['client']['execute']>>) => boolean } {
  switch (i % 5) {
    case 0:
      return { code: `${i} * 2`, check: (r) => resultOf(r) === String(i * 2) };
    case 1:
      return { code: `console.log("line ${i}");`, check: (r) => streamOf(r) === `line ${i}\n` };
    case 2:
      return { code: `const soaked = [${i}, ${i + 1}].map((x) => x + 1);\nsoaked.length`, check: (r) => resultOf(r) === '2' };
    case 3:
      return { code: `display.html("<p>${i}</p>");`, check: (r) => r.iopub.some((m) => m.header.msg_type === 'display_data') };
    default:
      return { code: `throw new Error("soak ${i}")`, check: (r) => r.reply.content.status === 'error' && r.reply.content.evalue === `soak ${i}` };
  }
}

describe('soak', () => {
  it('answers 1,000 executions correctly and keeps its memory bounded', async () => {
    for (let i = 0; i < 50; i++) await k.client.execute(cell(i).code, { stopOnError: false }); // warm-up
    const before = await memory();
    let wrong = 0;
    let mid = before;
    for (let i = 0; i < 1000; i++) {
      const c = cell(i);
      const r = await k.client.execute(c.code, { stopOnError: false, timeoutMs: 30_000 });
      if (!c.check(r)) wrong++;
      if (i === 499) mid = await memory();
    }
    const after = await memory();
    const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    console.info(
      `kernel soak, 1,000 executions: RSS ${mb(before.rss)} -> ${mb(mid.rss)} (after 500) -> ${mb(after.rss)} (+${mb(after.rss - before.rss)}), ` +
        `live heap ${mb(before.heapUsed)} -> ${mb(after.heapUsed)} (+${mb(after.heapUsed - before.heapUsed)}), ` +
        `external ${mb(before.external)} -> ${mb(after.external)}`,
    );
    expect(wrong).toBe(0);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(24 * 2 ** 20);
    expect(after.external - before.external).toBeLessThan(8 * 2 ** 20);
    expect(after.rss - mid.rss).toBeLessThan(128 * 2 ** 20);
  }, 300_000);
});

/**
 * The prelude's names (display, sleep, prange, …) as a fresh notebook sees them. The type
 * checker learns them only when a cell first mentions one, or on a completion or inspection
 * (declaring them makes every later cell's program larger); these tests hold that the
 * notebook cannot tell: the names keep their types, a cell may redefine one before the others
 * are declared, and completion and inspection find them in an empty notebook.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorOf, evaluate, start, type KernelProcess } from './helpers/kernel.js';

let dir: string;
let k: KernelProcess;

// A fresh kernel for each test: what is declared when depends on the notebook's first cells.
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tslab-parallel-prelude-'));
  k = await start({ cwd: dir });
});
afterEach(async () => {
  await k?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const complete = async (code: string) => (await k.client.request('shell', 'complete_request', { code, cursor_pos: code.length })).content;
const inspect = async (code: string, cursor: number) =>
  (await k.client.request('shell', 'inspect_request', { code, cursor_pos: cursor, detail_level: 0 })).content;

describe('the prelude names in a fresh notebook', () => {
  it('keep their types when first used after cells that did not mention them', async () => {
    expect(await evaluate(k, 'const first = 1;\nfirst + 1')).toBe('2');
    const r = await k.client.execute('const late: string = wtime();');
    expect(r.reply.content.status).toBe('error');
    expect(errorOf(r)?.evalue).toMatch(/Type 'number' is not assignable to type 'string'/);
    expect(await evaluate(k, 'const t: number = wtime();\ntypeof t')).toBe('number');
  });

  it('a name a magic rebound before any was used keeps its new type; the others are declared', async () => {
    // `x = %magic` binds without a cell mentioning x to the checker (a cell that does mention a
    // prelude name declares them all first, and then redeclares its own).
    expect((await k.client.execute('sleep = %who_ls')).reply.content.status).toBe('ok');
    // Were `sleep` declared as the prelude's function again, `sleep.concat` would not type-check.
    expect(await evaluate(k, 'display(typeof sleep);\n[sleep.concat(["x"]).at(-1), typeof prange]')).toBe("[ 'x', 'function' ]");
  });

  it('are offered by completion and described by inspection before any cell ran', async () => {
    expect((await complete('disp')).matches).toContain('display');
    const info = await inspect('prange', 3);
    expect(info.found).toBe(true);
    expect(String(info.data['text/plain'])).toMatch(/prange\(/);
    expect(await evaluate(k, 'let sum = 0;\nfor (const i of prange(4)) sum += i;\nsum')).toBe('6');
  });
});

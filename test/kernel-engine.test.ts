/**
 * The TypeScript engine's fixes over plain tslab, in a running kernel: earlier cells' names in
 * object shorthand and instantiation expressions, declarations of a cell that failed at run
 * time, ES2023 library types that Node 20 has, Node 20's @types/node; and what a first cell sent
 * during warm-up can use.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, evaluate, resultOf, start, streamOf, type KernelProcess } from './helpers/kernel.js';
import { tracebackText } from './helpers/text.js';

let dir: string;
let k: KernelProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tslab-parallel-engine-'));
  k = await start({ cwd: dir });
});
afterAll(async () => {
  await k?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the first cell', () => {
  // Sent right after kernel_info is answered, while the kernel still loads the compiler: it must
  // wait for the prelude, not run without its names (that was a ReferenceError: display is not defined).
  it('sent during warm-up has the prelude names (display, sleep)', async () => {
    const r = await k.client.execute('display("shown");\ntypeof sleep');
    expect(r.reply.content.status).toBe('ok');
    expect(resultOf(r)).toBe('function');
    expect(r.iopub.some((m) => m.header.msg_type === 'display_data')).toBe(true);
  });
});

describe('top-level await', () => {
  // `await (…)` right after `=` or at a cell's start: TypeScript reads it as a call of a
  // function named `await` unless the cell is parsed as a module ("await is not defined").
  it('awaits a parenthesised expression, in a declaration, as a value and in %timeit', async () => {
    expect(await evaluate(k, 'const awaited = await (async () => 21)();\nawaited * 2')).toBe('42');
    expect(await evaluate(k, 'await (async () => "plain")()')).toBe('plain');
    expect(await evaluate(k, 'awaited')).toBe('21');
    const r = await k.client.execute('%timeit -n 1 -r 1 await (async () => 1)()');
    expect(r.reply.content.status, JSON.stringify(r.reply.content)).toBe('ok');
  });
});

describe('names of earlier cells', () => {
  it('are used in object shorthand ({ a }), in destructuring defaults, and assigned to', async () => {
    await evaluate(k, 'const a = 1;\nlet b = 2;');
    expect(await evaluate(k, 'const o = { a, b };\no')).toBe('{ a: 1, b: 2 }');
    expect(await evaluate(k, 'const { c = a + b } = {} as { c?: number };\nc')).toBe('3');
    expect(await evaluate(k, 'b += 40;\nb')).toBe('42');
    expect(await evaluate(k, '({ b })')).toBe('{ b: 42 }');
  });

  it('of a cell that failed at run time remain usable (what ran before the error exists)', async () => {
    const r = await k.client.execute(
      'const before = 10;\nfunction helper() { return before + 1; }\nclass Box { constructor(public v: number) {} }\nthrow new Error("after the declarations");',
    );
    expect(r.reply.content.status).toBe('error');
    expect(await evaluate(k, 'helper() + new Box(before).v')).toBe('21');
  });

  it('are values in a class heritage: a class extends a class of an earlier cell', async () => {
    await evaluate(k, 'class Shape { area() { return 0; } describe() { return `area ${this.area()}`; } }');
    expect(await evaluate(k, 'class Square extends Shape { constructor(private s: number) { super(); } override area() { return this.s ** 2; } }\nnew Square(3).describe()')).toBe('area 9');
  });

  it('are values in an instantiation expression (id<number>) and in writes through a type assertion', async () => {
    await evaluate(k, 'function id<T>(x: T): T { return x; }\nlet counter = 1;');
    expect(await evaluate(k, 'const idNumber = id<number>;\nidNumber(5)')).toBe('5');
    expect(await evaluate(k, '(counter as number) += 41;\ncounter')).toBe('42');
  });

  it('can be declared again by a later cell', async () => {
    expect(await evaluate(k, 'const again = "first";\nagain')).toBe('first');
    expect(await evaluate(k, 'const again = 2;\nagain * 21')).toBe('42');
  });
});

describe('local TypeScript modules', () => {
  // The checker compiles them; its other conversions of a cell are deferred and never run
  // (src/engine/checker.ts), and those of a module the cell imports must still be done.
  it('are compiled when a cell imports one, with the local modules that one imports', async () => {
    writeFileSync(join(dir, 'local-helper.ts'), 'export const twice = (n: number): number => n * 2;\nexport default function hello(name: string) { return `hello ${name}`; }\n');
    writeFileSync(join(dir, 'local-other.ts'), 'import { twice } from "./local-helper";\nexport const four: number = twice(2);\n');
    expect(await evaluate(k, 'import hello, { twice } from "./local-helper";\n[twice(21), hello("cell")]')).toBe("[ 42, 'hello cell' ]");
    expect(await evaluate(k, 'import { four } from "./local-other";\nfour + twice(1)')).toBe('6');
    const r = await k.client.execute('import { twice as t } from "./local-helper";\nconst wrong: string = t(1);');
    expect(r.reply.content.status).toBe('error');
  });
});

describe('types of Node 20', () => {
  it('has the ES2023 array methods in the types and at run time', async () => {
    expect(await evaluate(k, '[3, 1, 2].toSorted()')).toBe('[ 1, 2, 3 ]');
    expect(await evaluate(k, '[1, 2, 3].toReversed().with(0, 9)')).toBe('[ 9, 2, 1 ]');
    expect(await evaluate(k, '[1, 2, 3, 4].findLast((x) => x % 2 === 1)')).toBe('3');
    expect(await evaluate(k, '[1, 2, 3].toSpliced(1, 1)')).toBe('[ 1, 3 ]');
  });

  it('has Node 20 APIs in @types/node (styleText, recursive readdir, availableParallelism)', async () => {
    expect(await evaluate(k, 'import { styleText } from "node:util";\nstyleText("bold", "x").includes("x")')).toBe('true');
    expect(await evaluate(k, 'import { readdir } from "node:fs/promises";\nArray.isArray(await readdir(".", { recursive: true }))')).toBe('true');
    expect(await evaluate(k, 'import { availableParallelism } from "node:os";\navailableParallelism() >= 1')).toBe('true');
  });

  it('still rejects what is not there: a type error names its line', async () => {
    const r = await k.client.execute('const n = 1;\n[1, 2].toSortedd();');
    expect(r.reply.content.status).toBe('error');
    expect(r.reply.content.evalue).toMatch(/line 2: Property 'toSortedd' does not exist/);
  });
});

describe('errors point at the cell', () => {
  it('a runtime error after a line magic is reported at its own cell line', async () => {
    const r = await k.client.execute('%env TSP_ENGINE_TEST=1\nconst x = 1;\nfunction boom(): never { throw new TypeError("bad"); }\nboom();');
    const e = errorOf(r)!;
    expect(e.ename).toBe('TypeError');
    const count = r.reply.content.execution_count as number;
    const tb = tracebackText(e.traceback);
    expect(tb).toContain(`at boom (In[${count}]:3:`);
    expect(tb).toContain(`In[${count}]:4:`);
  });

  it('an error in a %%time body is reported at the cell line, not the body line', async () => {
    const r = await k.client.execute('%%time\nconst y = 1;\n\nthrow new Error("in the body");');
    const count = r.reply.content.execution_count as number;
    expect(tracebackText(errorOf(r)?.traceback)).toContain(`In[${count}]:4:`);
  });

  it('a promise the cell rejects and never handles is reported in that cell, before it goes idle', async () => {
    // Reported after idle, the message has no cell to go to: JupyterLab drops output for a
    // request it has seen finish.
    const r = await k.client.execute('Promise.reject(new Error("stray rejection"));\n1');
    expect(r.reply.content.status).toBe('ok');
    expect(streamOf(r, 'stderr')).toContain('Unhandled promise rejection');
    expect(streamOf(r, 'stderr')).toContain('stray rejection');
  });

  it('a function of an earlier cell failing later is reported at its own cell', async () => {
    const def = await k.client.execute('function failsLater() {\n  return JSON.parse("{");\n}');
    const defCount = def.reply.content.execution_count as number;
    const r = await k.client.execute('failsLater()');
    expect(errorOf(r)?.ename).toBe('SyntaxError');
    // called as exports.failsLater(), V8 names the frame Object.failsLater
    expect(tracebackText(errorOf(r)?.traceback)).toMatch(new RegExp(`at (Object\\.)?failsLater \\(In\\[${defCount}\\]:2:`));
  });
});

/**
 * Shipping notebook code: transitive helpers, classes, imports, constants, natives, partials,
 * loaded from a structured clone of the shipment (as a worker receives it) and in a real worker.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadShipment, partial, ship, type Shipment } from '../dist/src/ship/index.js';
import { installNotebookDefinitions } from '../dist/src/ship/notebook.js';
import { ProcessContext } from '../dist/src/util/process-context.js';
import { NotebookFixture } from './fixtures/ship/notebook-fixture.js';
import { runInWorker } from './fixtures/ship/run-in-worker.js';

const fixtureDir = path.join(__dirname, 'fixtures', 'ship');

/** Loads a shipment the way a worker gets it: after structured clone. */
function load(s: Shipment): Record<string, Function> {
  return loadShipment(structuredClone(s));
}

function notebook(...cells: string[]): NotebookFixture {
  const nb = new NotebookFixture(fixtureDir);
  for (const cell of cells) nb.run(cell);
  return nb;
}

describe('shipping notebook functions', () => {
  it('ships a function with the helpers and constants it uses, transitively', () => {
    const nb = notebook(
      'const SCALE = 3;\nfunction scale(x: number) { return x * SCALE; }',
      'const OFFSET = 1;\nfunction task(x: number) { return scale(x) + OFFSET; }',
    );
    expect(nb.cells[1]?.js).toContain('exports.scale(x)');
    const s = ship({ task: nb.exports.task as Function }, { definitions: nb });
    expect(s.entries).toEqual(['task']);
    expect(Object.keys(s.data).sort()).toEqual(['OFFSET', 'SCALE']);
    expect(load(s).task?.(2)).toBe(7);
  });

  it('without definitions, ships with those the kernel installed in the given process context', () => {
    const nb = notebook('const SCALE = 3;\nfunction task(x: number) { return x * SCALE; }');
    const context = new ProcessContext();
    installNotebookDefinitions(nb, context);
    expect(load(ship({ task: nb.exports.task as Function }, { context })).task?.(2)).toBe(6);
    expect(() => ship({ task: nb.exports.task as Function }, { context: new ProcessContext() })).toThrow(/SCALE/);
    context.dispose();
  });

  it('ships recursive and mutually recursive functions and arrow-function constants', () => {
    const nb = notebook(
      'function isEven(n: number): boolean { return n === 0 ? true : isOdd(n - 1); }\nfunction isOdd(n: number): boolean { return n === 0 ? false : isEven(n - 1); }',
      'const fib = (n: number): number => (n < 2 ? n : fib(n - 1) + fib(n - 2));\nconst task = (n: number) => [isEven(n), fib(n)];',
    );
    const s = ship({ task: nb.exports.task as Function }, { definitions: nb });
    expect(load(s).task?.(10)).toEqual([true, 55]);
  });

  it('ships classes with their base classes, keeping instanceof, after the data they use at definition time', () => {
    const nb = notebook(
      'class Shape { area() { return 0; } }',
      'const UNITS = { name: "cm" };\nclass Square extends Shape { static unit = UNITS.name; constructor(public side: number) { super(); } area() { return this.side ** 2; } }',
      'function task(side: number) { const s = new Square(side); return [s.area(), Square.unit, s instanceof Shape]; }',
    );
    const s = ship({ task: nb.exports.task as Function }, { definitions: nb });
    expect(s.code.indexOf('const UNITS')).toBeLessThan(s.code.indexOf('const Square'));
    expect(s.code.indexOf('const Shape')).toBeLessThan(s.code.indexOf('const Square'));
    expect(load(s).task?.(3)).toEqual([9, 'cm', true]);
  });

  it('re-creates imports: a node built-in, a relative JavaScript module and a relative TypeScript module', () => {
    const nb = notebook(
      "import * as path from 'node:path';\nimport { triple } from './helpers';\nimport greet, { shout } from './greeting';\nimport os = require('node:os');",
      'function task(name: string) { return [path.basename("/a/b.txt"), triple(2), greet(name), shout(name), typeof os.cpus]; }',
    );
    const s = ship({ task: nb.exports.task as Function }, { definitions: nb });
    const modules = s.imports.map((i) => i.module);
    expect(modules).toContain('node:path');
    expect(modules).toContain(path.join(fixtureDir, 'helpers.js'));
    const compiled = s.imports.find((i) => i.compiled);
    expect(compiled?.module).toMatch(/greeting\.js$/);
    expect(path.isAbsolute(compiled?.module ?? '')).toBe(true);
    expect(load(s).task?.('ann')).toEqual(['b.txt', 6, 'hello ann x3', 'ANN', 'function']);
  });

  it('ships constants by value: numbers, objects, enums and typed arrays', () => {
    const nb = notebook(
      'const N = 4;\nconst CONFIG = { weights: [1, 2], nested: { on: true } };\nconst TABLE = new Float64Array([0.5, 1.5]);\nenum Color { Red, Green }',
      'function task(i: number) { return CONFIG.weights[i % 2]! * N + TABLE[i % 2]! + Color.Green; }',
    );
    const s = ship({ task: nb.exports.task as Function }, { definitions: nb });
    expect(s.data.TABLE).toBeInstanceOf(Float64Array);
    expect(load(s).task?.(1)).toBe(2 * 4 + 1.5 + 1);
  });

  it('ships native functions by their global path (Math.exp), alone or inside data', () => {
    const nb = notebook('const f = Math.exp;\nconst ops = { exp: Math.exp, max: Math.max };', 'function task(x: number) { return [f(x), ops.exp(x), ops.max(x, 2)]; }');
    const s = ship({ task: nb.exports.task as Function }, { definitions: nb });
    expect(s.code).toContain('= Math.exp;');
    expect(load(s).task?.(1)).toEqual([Math.exp(1), Math.exp(1), 2]);
  });

  it('ships partials by their parts, bound by position and by name', () => {
    const nb = notebook(
      'function gauss(x: number, x0: number, sigma: number) { return Math.exp((-0.5 * (x - x0) ** 2) / sigma ** 2); }',
      'function integrate(id: number, fun: (x: number) => number, dx: number) { return fun(id) * dx; }',
    );
    const gauss = nb.exports.gauss as (x: number, x0: number, sigma: number) => number;
    const byName = partial(gauss, { x0: 0.5, sigma: 2.0 });
    const byPosition = partial(nb.exports.integrate as (id: number, fun: (x: number) => number, dx: number) => number, 0);
    const named2 = partial(nb.exports.integrate as Function as (...a: never[]) => number, { fun: Math.exp, dx: 0.5 });
    expect(byName(1.5)).toBeCloseTo(0.8824969025845955, 15);
    const s = ship({ byName, byPosition, named2 }, { definitions: nb });
    const fns = load(s);
    expect(fns.byName?.(1.5)).toBe(gauss(1.5, 0.5, 2.0));
    expect(fns.byPosition?.(Math.exp, 2)).toBe(2);
    expect(fns.named2?.(1)).toBe(Math.exp(1) * 0.5);
  });

  it('binds the same function under two names once, keeping identity', () => {
    const nb = notebook('function base(x: number) { return x + 1; }\nconst alias = base;', 'function task() { return alias === base; }');
    const s = ship({ task: nb.exports.task as Function }, { definitions: nb });
    expect(load(s).task?.()).toBe(true);
  });

  it('works for a name used by the same cell while that cell runs (declarations registered first)', () => {
    const nb = new NotebookFixture(fixtureDir);
    let shipped: Shipment | undefined;
    (globalThis as Record<string, unknown>).__shipDuringCell = (fn: Function) => {
      shipped = ship({ fn }, { definitions: nb });
    };
    nb.run('const K = 5;\nfunction times(x: number) { return x * K; }\n(globalThis as any).__shipDuringCell(times);');
    delete (globalThis as Record<string, unknown>).__shipDuringCell;
    expect(shipped && load(shipped).fn?.(2)).toBe(10);
  });

  it('gives the same id to the same code, whatever the data; another id to other code', () => {
    const nb = notebook('let LIMIT = 1;\nfunction task(x: number) { return Math.min(x, LIMIT); }');
    const first = ship({ task: nb.exports.task as Function }, { definitions: nb });
    nb.exports.LIMIT = 7;
    const second = ship({ task: nb.exports.task as Function }, { definitions: nb });
    expect(second.id).toBe(first.id);
    expect(second.data.LIMIT).toBe(7);
    expect(load(second).task?.(9)).toBe(7);
    const other = ship({ other: nb.exports.task as Function }, { definitions: nb });
    expect(other.id).not.toBe(first.id);
  });

  it('ships compiled code targets, with names the receiver provides', () => {
    const nb = notebook('const WIDTH = 10;');
    const s = ship(
      { body: { code: 'function (rank, size) { return rank * exports.WIDTH + size; }', provided: ['rank', 'size'] } },
      { definitions: nb },
    );
    expect(load(s).body?.(2, 4)).toBe(24);
  });

  it('runs in a real worker thread, without loading typescript there, sharing SharedArrayBuffer data', async () => {
    const nb = notebook(
      'const shared = new Int32Array(new SharedArrayBuffer(8));\nfunction bump(i: number) { Atomics.add(shared, i, 5); return Atomics.load(shared, i); }',
    );
    const s = ship({ bump: nb.exports.bump as Function }, { definitions: nb });
    const outcome = await runInWorker(s, 'bump', [1]);
    expect(outcome).toMatchObject({ ok: true, result: 5, typescriptLoaded: false });
    expect((nb.exports.shared as Int32Array)[1]).toBe(5);
  });
});

describe('shipping in a plain Node program (no definitions)', () => {
  it('ships functions that use only globals and their arguments', () => {
    const s = ship({ f: (x: number) => Math.sqrt(x) + Number.EPSILON * 0 });
    expect(load(s).f?.(9)).toBe(3);
  });

  it('ships functions written as methods', () => {
    const obj = {
      area(w: number, h: number) {
        return w * h;
      },
    };
    expect(load(ship({ area: obj.area })).area?.(2, 3)).toBe(6);
  });
});

/**
 * Loop bodies compiled for their arrays (src/parallel/runtime/body-copies.ts). A copy is made only
 * when the same arrays come back. It must compute exactly what the body computes, read numbers
 * from each call, keep no array alive, report errors as the body does, and be made only for
 * self-contained bodies.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { compileParallelCell, shutdownParallel } from '../dist/src/parallel/index.js';
import { BodyCopies, copyCode, kDefaultPolicy, policyFromEnv, type CopyPolicy } from '../dist/src/parallel/runtime/body-copies.js';
import { shipLoopBody } from '../dist/src/parallel/runtime/shipping.js';
import { createThreadContext } from '../dist/src/parallel/runtime/thread-state.js';
import type { ChunkFunction, LoopSpec } from '../dist/src/parallel/spec.js';
import type { RemoteError } from '../dist/src/util/remote-error.js';
import { FixtureNotebook } from './fixtures/parallel/notebook.js';

// Set before the first loop: the runtime and its workers read it then.
process.env['TSLAB_PARALLEL_BODY_COPIES'] = 'eager';
afterAll(() => shutdownParallel());

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const eager: CopyPolicy = { enabled: true, repayMs: 0, minIterations: 0, firstSightMs: Infinity, paysOffRatio: 0.9 };

interface CapturedLoop {
  readonly spec: LoopSpec;
  readonly body: ChunkFunction;
  readonly names: readonly string[];
}

/**
 * Compiles a %%parallel cell and returns its first loop as the runtime would receive it (spec
 * and body), by running the function once against a runtime stand-in that only records.
 */
function captureLoop(source: string, name: string, args: unknown[]): CapturedLoop {
  const compiled = compileParallelCell(source, { threads: 2 });
  const js = ts.transpileModule(compiled.code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const exports: Record<string, (...a: unknown[]) => unknown> = {};
  vm.runInThisContext(`(function (exports) {${js}\n})`)(exports);
  const g = globalThis as unknown as { __tsp_parallel?: unknown };
  const saved = g.__tsp_parallel;
  let loop: CapturedLoop | undefined;
  g.__tsp_parallel = {
    run(spec: LoopSpec, _captured: unknown[], reductions: unknown[], _shared: unknown[], _a: number, _b: number, _c: number, body: ChunkFunction) {
      loop ??= { spec, body, names: spec.names };
      return reductions.map(() => 0);
    },
  };
  try {
    exports[name]!(...args);
  } finally {
    g.__tsp_parallel = saved;
  }
  return loop!;
}

const relaxCell = `
export function relax(n: number, t: number, a: Float64Array, b: Float64Array): void {
  for (const i of prange(1, n - 1)) {
    b[i] = a[i] + t * (a[i + 1] - 2 * a[i] + a[i - 1]);
  }
}`;

function reference(n: number, t: number, a: Float64Array): Float64Array {
  const b = new Float64Array(n);
  for (let i = 1; i < n - 1; i++) b[i] = a[i]! + t * (a[i + 1]! - 2 * a[i]! + a[i - 1]!);
  return b;
}

function waves(n: number, phase: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.01 + phase));
}

describe('body copies, one thread at a time', () => {
  const n = 5000;
  const loop = captureLoop(relaxCell, 'relax', [n, 0.25, new Float64Array(n), new Float64Array(n)]);
  const envFor = (t: number, a: Float64Array, b: Float64Array) => loop.names.map((name) => ({ t, a, b })[name as 't' | 'a' | 'b']);

  /** Runs the loop through `copies`; returns the body it was given. */
  function run(copies: BodyCopies, t: number, a: Float64Array, b: Float64Array, iterations = n, fresh = 0): ChunkFunction {
    let used: ChunkFunction | undefined;
    const env = envFor(t, a, b);
    const call = (body: ChunkFunction) => {
      used = body;
      body(0, n - 2, 1, 1, env, [], new Float64Array(1), createThreadContext());
    };
    copies.run(loop.spec.id, loop.body, env, iterations, () => shipLoopBody(loop.spec, loop.body, undefined), call, fresh);
    return used!;
  }

  it('runs the body as compiled while its arrays are new, and a copy once they come back', () => {
    const copies = new BodyCopies(eager);
    const a = waves(n, 0);
    const b = new Float64Array(n);
    expect(run(copies, 0.25, a, b)).toBe(loop.body);
    const second = run(copies, 0.25, a, b);
    expect(second).not.toBe(loop.body);
    expect(b).toEqual(reference(n, 0.25, a));
    b.fill(0);
    expect(run(copies, 0.25, a, b)).not.toBe(loop.body);
    expect(b).toEqual(reference(n, 0.25, a));
    // Other arrays: the compiled body again, until they come back too.
    const c = waves(n, 1);
    const d = new Float64Array(n);
    expect(run(copies, 0.25, c, d)).toBe(loop.body);
    expect(run(copies, 0.25, c, d)).not.toBe(loop.body);
    expect(d).toEqual(reference(n, 0.25, c));
  });

  it('once a copy has paid off, copies new arrays at first sight in a body whose calls are long enough', () => {
    // (Every copy "pays off" here, and every call is long enough: the rule, not the clock.)
    const copies = new BodyCopies({ ...eager, firstSightMs: 0, paysOffRatio: Infinity });
    const a = waves(n, 5);
    const b = new Float64Array(n);
    expect(run(copies, 0.25, a, b)).toBe(loop.body);
    expect(run(copies, 0.25, a, b)).not.toBe(loop.body); // the copy's first call
    expect(run(copies, 0.25, a, b)).not.toBe(loop.body); // timed against the compiled body: pays off
    const c = waves(n, 6);
    const d = new Float64Array(n);
    expect(run(copies, 0.25, c, d)).not.toBe(loop.body);
    expect(d).toEqual(reference(n, 0.25, c));
    // Without a copy that paid off, new arrays run the compiled body first.
    const unpaid = new BodyCopies({ ...eager, firstSightMs: 0, paysOffRatio: 0 });
    for (let k = 0; k < 3; k++) run(unpaid, 0.25, a, b);
    expect(run(unpaid, 0.25, c, d)).toBe(loop.body);
  });

  it('stops copying new arrays at first sight when such copies are not called again', () => {
    const copies = new BodyCopies({ ...eager, firstSightMs: 0, paysOffRatio: Infinity });
    const a = waves(n, 7);
    const b = new Float64Array(n);
    for (let k = 0; k < 3; k++) run(copies, 0.25, a, b); // a copy that pays off
    // Four pairs seen once each: copied at first sight, never called again.
    for (let k = 0; k < 4; k++) expect(run(copies, 0.25, waves(n, k), new Float64Array(n))).not.toBe(loop.body);
    expect(run(copies, 0.25, waves(n, 9), new Float64Array(n))).toBe(loop.body);
    // Arrays that come back still get their copy.
    const c = waves(n, 10);
    const d = new Float64Array(n);
    run(copies, 0.25, c, d);
    expect(run(copies, 0.25, c, d)).not.toBe(loop.body);
  });

  it('reads positions marked fresh from each call: a new array there neither defeats the copy nor is baked into it', () => {
    const copies = new BodyCopies(eager);
    const fresh = 1 << loop.names.indexOf('a');
    const b = new Float64Array(n);
    run(copies, 0.25, waves(n, 11), b, n, fresh);
    for (const phase of [12, 13, 14]) {
      const a = waves(n, phase);
      expect(run(copies, 0.25, a, b, n, fresh)).not.toBe(loop.body);
      expect(b).toEqual(reference(n, 0.25, a));
    }
  });

  it('reads numbers from each call: a changed one neither defeats the copy nor is baked into it', () => {
    const copies = new BodyCopies(eager);
    const a = waves(n, 2);
    const b = new Float64Array(n);
    run(copies, 0.1, a, b);
    run(copies, 0.1, a, b);
    for (const t of [0.2, 0.3, -0.4]) {
      expect(run(copies, t, a, b)).not.toBe(loop.body);
      expect(b).toEqual(reference(n, t, a));
    }
  });

  it('leaves small shares, and everything when turned off, to the compiled body', () => {
    const small = new BodyCopies({ ...eager, minIterations: 10_000 });
    const off = new BodyCopies({ ...eager, enabled: false });
    const a = waves(n, 3);
    const b = new Float64Array(n);
    for (let k = 0; k < 3; k++) {
      expect(run(small, 0.25, a, b, 5000)).toBe(loop.body);
      expect(run(off, 0.25, a, b)).toBe(loop.body);
    }
    expect(policyFromEnv('0').enabled).toBe(false);
    expect(policyFromEnv('')).toEqual(kDefaultPolicy);
    expect(policyFromEnv('eager')).toEqual(eager);
  });

  it('keeps no array alive once the caller drops it', async () => {
    const copies = new BodyCopies(eager);
    let a: Float64Array | undefined = waves(n, 4);
    let b: Float64Array | undefined = new Float64Array(n);
    run(copies, 0.25, a, b);
    expect(run(copies, 0.25, a, b)).not.toBe(loop.body);
    const refs = [new WeakRef(a), new WeakRef(b)];
    a = b = undefined;
    for (let k = 0; k < 5 && refs.some((r) => r.deref()); k++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(refs.map((r) => r.deref())).toEqual([undefined, undefined]);
  });

  it('throws what the body throws, at the same iteration, with frames mapped back from the copy', () => {
    const cell = `
export function check(n: number, bad: number, a: Float64Array): void {
  for (const i of prange(n)) {
    if (i === bad) throw new RangeError('bad value ' + a[i]);
  }
}`;
    const failing = captureLoop(cell, 'check', [10, -1, new Float64Array(10)]);
    const copies = new BodyCopies(eager);
    const a = Float64Array.from({ length: 100 }, (_, i) => i * 2);
    const ctx = createThreadContext();
    const call = (bad: number) => {
      const env = failing.names.map((name) => ({ n: 100, bad, a })[name as 'n' | 'bad' | 'a']);
      let used: ChunkFunction | undefined;
      copies.run(failing.spec.id, failing.body, env, 100, () => shipLoopBody(failing.spec, failing.body, undefined), (body) => {
        used = body;
        body(0, 100, 0, 1, env, [], new Float64Array(1), ctx);
      });
      return used;
    };
    call(-1);
    call(-1);
    let err: Error | undefined;
    try {
      call(37);
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(RangeError);
    expect(err!.message).toBe('bad value 74');
    expect(ctx.at).toBe(37);
    expect(err!.stack).not.toMatch(/tslab-ship-/);
    expect(err!.stack).toMatch(/shipped:body:\d+:\d+/);
  });
});

describe('which bodies are copied (copyCode)', () => {
  const loop = captureLoop(relaxCell, 'relax', [10, 0.25, new Float64Array(10), new Float64Array(10)]);
  const shipment = shipLoopBody(loop.spec, loop.body, undefined);
  const objects = loop.names.reduce((mask, name, k) => (name === 't' ? mask : mask | (1 << k)), 0);
  const positions = loop.names.length;

  it('a self-contained body: its arrays come from the copy, its numbers from each call', () => {
    const code = copyCode(shipment, positions, objects)!;
    const t = loop.names.indexOf('t');
    const a = loop.names.indexOf('a');
    expect(code).toContain(`__tspCallEnv[${t}]`);
    expect(code).not.toContain(`__tspEnv[${t}]`);
    expect(code).toContain(`__tspEnv[${a}]`);
    expect(code).toContain('__tspCallEnv, __tspRed');
  });

  it('not one that carries notebook data or imports, nor code the compiler did not shape', () => {
    expect(copyCode({ ...shipment, data: { helper: 1 } }, positions, objects)).toBeUndefined();
    expect(copyCode({ ...shipment, imports: [{ specifier: 'x' } as never] }, positions, objects)).toBeUndefined();
    expect(copyCode({ ...shipment, code: shipment.code.replace('__tspEnv, __tspRed', '__tspE, __tspRed') }, positions, objects)).toBeUndefined();
  });
});

describe('through the runtime (copies made whenever arrays come back)', () => {
  const nb = new FixtureNotebook();
  const cell = `
export function diffuse(steps: number, alpha: number, C: Float64Array): Float64Array {
  let D = new Float64Array(C.length);
  for (let s = 0; s < steps; s++) {
    for (const i of prange(1, C.length - 1)) {
      D[i] = C[i] + alpha * (C[i + 1] - 2 * C[i] + C[i - 1]);
    }
    [C, D] = [D, C];
  }
  return C;
}
export function sumOf(a: Float64Array): number {
  let tot = 0;
  for (const i of prange(a.length)) tot += a[i];
  return tot;
}
export function failAt(bad: number, a: Float64Array): number {
  let tot = 0;
  for (const i of prange(a.length)) {
    if (i === bad) throw new RangeError('bad value ' + a[i]);
    tot += a[i];
  }
  return tot;
}`;

  function serial(steps: number, alpha: number, C: Float64Array): Float64Array {
    let c = C.slice();
    let d = new Float64Array(C.length);
    for (let s = 0; s < steps; s++) {
      for (let i = 1; i < c.length - 1; i++) d[i] = c[i]! + alpha * (c[i + 1]! - 2 * c[i]! + c[i - 1]!);
      [c, d] = [d, c];
    }
    return c;
  }

  it.each([1, 2])('on %i thread(s): diffusion steps and a reduction give exactly the serial results', (threads) => {
    nb.run(cell, { parallel: { threads } });
    const diffuse = nb.fn<(steps: number, alpha: number, C: Float64Array) => Float64Array>('diffuse');
    const sumOf = nb.fn<(a: Float64Array) => number>('sumOf');
    const C = Float64Array.from({ length: 20_000 }, (_, i) => Math.exp(-(((i - 10_000) / 2000) ** 2)));
    // (diffuse writes into the array it is given: each call gets its own copy.)
    for (const steps of [6, 7]) expect(diffuse(steps, 0.3, C.slice())).toEqual(serial(steps, 0.3, C));
    const ints = Float64Array.from({ length: 50_000 }, (_, i) => i % 97);
    const exact = ints.reduce((s, x) => s + x, 0);
    for (let k = 0; k < 4; k++) expect(sumOf(ints)).toBe(exact);
  });

  it('an error in a copy on a worker reads as one in the body', () => {
    nb.run(cell, { parallel: { threads: 2 } });
    const failAt = nb.fn<(bad: number, a: Float64Array) => number>('failAt');
    const a = Float64Array.from({ length: 1000 }, (_, i) => i);
    expect(failAt(-1, a)).toBe(499_500);
    expect(failAt(-1, a)).toBe(499_500);
    let err: unknown;
    try {
      failAt(777, a);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toMatch(/^thread 1 \(iteration 777 of the prange loop on line \d+\): RangeError: bad value 777$/);
    expect((err as RemoteError).remoteName).toBe('RangeError');
    expect(() => failAt(7, a)).toThrow(new RangeError('bad value 7'));
  });
});

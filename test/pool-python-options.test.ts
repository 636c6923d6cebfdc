/**
 * multiprocessing / concurrent.futures options through a real kernel, on both backends:
 * initializer + initargs (every worker, replacements too; a failing one breaks the pool at
 * once instead of hanging it), maxTasksPerChild (workers recycled), a call's timeout (fails
 * naming the input, stops the task), future.result(timeout) and wait(futures, returnWhen).
 */
import { describe, expect, it } from 'vitest';
import { useKernelSession } from './helpers/kernel-session.js';
import { survivors } from './helpers/process-tree.js';
import { backends } from './fixtures/pool/helpers.js';

const flat = (text: string | undefined): string => (text ?? '').replace(/\s+/g, ' ');

describe.each(backends)('Python pool options in the kernel, %s', (backend) => {
  const k = useKernelSession();
  const ok = async (code: string) => {
    const r = await k.run(code);
    expect(r.error?.evalue ?? '', code).toBe('');
    expect(r.status).toBe('ok');
    return r;
  };

  it('runs the initializer with its initargs once in every worker, and again in a replacement', async () => {
    await ok(
      'import { Pool, asCompleted, wait, workerId } from "tslab-parallel";\n' +
        'const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));\n' +
        'function setup(base: number, label: string) {\n' +
        '  (globalThis as any).base = base;\n' +
        '  (globalThis as any).inits = ((globalThis as any).inits ?? 0) + 1;\n' +
        '  console.log(`${label} ${workerId()}`);\n' +
        '}',
    );
    const started = await ok(`const p = new Pool({ workers: 2, backend: '${backend}', initializer: setup, initargs: [100, 'ready'] });\nawait p.ready();`);
    expect(started.stdout.trim().split('\n').sort()).toEqual(['[worker 1] ready 1', '[worker 2] ready 2']);
    const r = await ok('await p.map((x: number) => [x + (globalThis as any).base, (globalThis as any).inits], [1, 2, 3, 4], { chunksize: 1 })');
    expect(flat(r.result)).toBe('[ [ 101, 1 ], [ 102, 1 ], [ 103, 1 ], [ 104, 1 ] ]');

    const died = await k.run('await p.map((x: number) => { if (x === 2) process.exit(7); return x; }, [1, 2], { chunksize: 1 })');
    expect(died.error?.ename).toBe('WorkerDiedError');
    // The replacement has fresh globals: base is set (and inits is 1) only because it ran the initializer.
    const after = await ok('await p.map((x: number) => [x + (globalThis as any).base, (globalThis as any).inits], [1, 2, 3, 4], { chunksize: 1 })');
    expect(flat(after.result)).toBe('[ [ 101, 1 ], [ 102, 1 ], [ 103, 1 ], [ 104, 1 ] ]');
    expect(`${died.stdout}${after.stdout}`).toMatch(/\[worker [12]\] ready [12]/);
  });

  it('a failing initializer breaks the pool: calls fail at once, naming the worker and the error, and the kernel goes on', async () => {
    const r = await k.run(
      `const bad = new Pool({ workers: 2, backend: '${backend}', initializer: () => { throw new Error('no database'); } });\n` +
        'await bad.map((x: number) => x, [1, 2, 3])',
    );
    expect(r.status).toBe('error');
    expect(r.error?.ename).toBe('BrokenPoolError');
    expect(r.error?.evalue).toMatch(/^the pool's initializer failed in worker [12]: Error: no database\. The pool is broken .*start a new pool\.$/);
    expect(r.error?.traceback).toMatch(/In\[\d+\], line 1/);
    const again = await k.run('await bad.apply((x: number) => x, 1)');
    expect(again.error?.ename).toBe('BrokenPoolError');
    await ok('await bad.close()');
    const exits = await k.run(`const gone = new Pool({ workers: 1, backend: '${backend}', initializer: () => process.exit(3) });\nawait gone.ready()`);
    expect(exits.error?.ename).toBe('BrokenPoolError');
    expect(exits.error?.evalue).toMatch(/initializer failed in worker 1: WorkerDiedError: the worker stopped while running it: it exited with code 3/);
    await ok('await gone.close()');
    expect((await ok('1 + 1')).result).toBe('2');
  });

  it('maxTasksPerChild replaces a worker after that many tasks (a chunk counts as one), running the initializer again', async () => {
    await ok(
      `const recycled = new Pool({ workers: 1, backend: '${backend}', maxTasksPerChild: 2, initializer: () => { (globalThis as any).token = Math.random(); } });`,
    );
    // Each token's first position: [0, 0, 2, 2, 4, 4] is three workers, two tasks each.
    const firsts = (values: string) => `const vs = ${values};\n[vs.map((v) => vs.indexOf(v)), vs.every((v) => typeof v === 'number')]`;
    const tokens = await ok(firsts('await recycled.map(() => (globalThis as any).token, [1, 2, 3, 4, 5, 6], { chunksize: 1 })'));
    expect(flat(tokens.result)).toBe('[ [ 0, 0, 2, 2, 4, 4 ], true ]');
    await ok('await recycled.close()');

    await ok(`const chunked = new Pool({ workers: 1, backend: '${backend}', maxTasksPerChild: 1 });`);
    const chunks = await ok(firsts('await chunked.map(() => ((globalThis as any).mine ??= Math.random()), [1, 2, 3, 4, 5, 6], { chunksize: 3 })'));
    expect(flat(chunks.result)).toBe('[ [ 0, 0, 0, 3, 3, 3 ], true ]');
    await ok('await chunked.close()');
  });

  it("a call's timeout fails it naming the input still running, stops that task and leaves the pool usable", async () => {
    const r = await k.run('await p.with({ timeout: 0.5 }).map((ms: number) => { const t = Date.now(); while (Date.now() - t < ms) {} return ms; }, [10, 60000, 10], { chunksize: 1 })');
    expect(r.status).toBe('error');
    expect(r.error?.ename).toBe('TimeoutError');
    expect(r.error?.evalue).toMatch(/^pool\.map timed out after 0\.5 s: worker [12]( \(pid \d+\))? was still running input #1 \(60000\); it was stopped and replaced\./);
    if (backend === 'processes') {
      const pid = Number(/\(pid (\d+)\)/.exec(r.error?.evalue ?? '')?.[1]);
      expect(await survivors([pid])).toEqual([]);
    }
    // An async task past its timeout never gets to print: it was stopped, not left running.
    const late = await k.run("await p.with({ timeout: 0.3 }).apply(async () => { await sleep(1500); console.log('still running'); return 1; })");
    expect(late.error?.ename).toBe('TimeoutError');
    const quiet = await ok('await sleep(2500); await p.map((x: number) => x + (globalThis as any).base, [1, 2])');
    expect(flat(quiet.result)).toBe('[ 101, 102 ]');
    expect(`${late.stdout}${quiet.stdout}`).not.toMatch(/still running/);
    const bad = await k.run('await p.map((x: number) => x, [1], { timeout: 0 })');
    expect(bad.error?.evalue).toBe('options.timeout must be a number of seconds > 0');
  });

  it('future.result(timeout) raises TimeoutError and the task keeps running; wait() splits futures into done and notDone', async () => {
    const r = await ok(
      'const f = p.submit(async (ms: number) => { await sleep(ms); return "late"; }, 1200);\n' +
        'const e = await f.result(0.2).catch((err: Error) => err) as Error;\n' +
        '[e.name, e.message, f.running(), await f.result()]',
    );
    expect(flat(r.result)).toMatch(/^\[ 'TimeoutError', "the future's result was not ready within 0.2 s; the task keeps running .*", true, 'late' \]$/);

    const first = await ok(
      'const quick = p.submit(async () => { await sleep(50); return 1; });\n' +
        'const slow = p.submit(async () => { await sleep(1500); return 2; });\n' +
        'const w1 = await wait([quick, slow], "FIRST_COMPLETED");\n' +
        '[w1.done.has(quick), w1.notDone.has(slow), w1.done.size, w1.notDone.size]',
    );
    expect(flat(first.result)).toBe('[ true, true, 1, 1 ]');
    const all = await ok('const w2 = await wait([quick, slow]);\n[w2.done.size, w2.notDone.size, await slow.result()]');
    expect(flat(all.result)).toBe('[ 2, 0, 2 ]');

    const failing = await ok(
      'const boom = p.submit(async () => { await sleep(50); throw new RangeError("boom"); });\n' +
        'const slower = p.submit(async () => { await sleep(1500); return 3; });\n' +
        'const w3 = await wait([slower, boom], "FIRST_EXCEPTION");\n' +
        '[[...w3.done].length, w3.done.has(boom), w3.notDone.has(slower), String(await boom.exception())]',
    );
    expect(flat(failing.result)).toMatch(/^\[ 1, true, true, 'RemoteError: worker [12].*RangeError: boom' \]$/);
    const iterated = await ok(
      'const it = asCompleted([slower], 0.1);\n' +
        'const late = await it.next().catch((err: Error) => `${err.name}: ${err.message}`);\n' +
        '[slower.done(), late]',
    );
    expect(flat(iterated.result)).toBe("[ false, 'TimeoutError: asCompleted: 1 of 1 futures were not done within 0.1 s; they keep running' ]");
    const timed = await ok('const w4 = await wait([slower], "ALL_COMPLETED", 0.1);\n[w4.done.size, w4.notDone.size]');
    expect(flat(timed.result)).toBe('[ 0, 1 ]');
    const bad = await k.run('await wait([slower], "FIRST" as any)');
    expect(bad.error?.evalue).toBe("wait(futures, returnWhen): returnWhen must be 'FIRST_COMPLETED', 'FIRST_EXCEPTION' or 'ALL_COMPLETED'; got \"FIRST\"");
    await ok('await p.close()');
  });

  it('%pool? documents the options', async () => {
    const help = flat((await ok('%pool?')).stdout);
    for (const word of ['initializer', 'initargs', 'maxTasksPerChild', '{ timeout: S }', 'future.result(S)', "'FIRST_EXCEPTION'", 'notDone']) {
      expect(help).toContain(word);
    }
  });

  it('checks the new options with clear messages', async () => {
    const cases: [string, string][] = [
      ['{ initializer: 3 }', 'options.initializer must be a function'],
      ['{ initargs: [1] }', 'options.initargs needs options.initializer (the function they are passed to)'],
      ['{ initializer: () => 0, initargs: 1 }', 'options.initargs must be an array of arguments'],
      ['{ maxTasksPerChild: 0 }', 'options.maxTasksPerChild must be a positive integer (tasks before a worker is replaced)'],
    ];
    for (const [options, message] of cases) {
      const r = await k.run(`new Pool(${options} as any)`);
      expect(r.error?.evalue, options).toBe(message);
    }
    const unsendable = await k.run('new Pool({ initializer: (f: unknown) => f, initargs: [() => 1] })');
    expect(unsendable.error?.evalue).toMatch(/^options\.initargs cannot be sent to the workers \(.*\); pass plain data/);
  });
});

/**
 * The kernel's own magics in a running kernel: %lsmagic, %name? help, one-line UsageErrors with
 * the valid choices, a did-you-mean and the specs' declared limits, %time/%%time,
 * %timeit/%%timeit (-n, -r, automatic loops), !cmd (live output, exit code), %%sh, %env.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, evaluate, resultOf, start, streamOf, type ExecuteResult, type KernelProcess } from './helpers/kernel.js';

let dir: string;
let k: KernelProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tslab-parallel-magics-'));
  k = await start({ cwd: dir });
});
afterAll(async () => {
  await k?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const run = (code: string): Promise<ExecuteResult> => k.client.execute(code, { stopOnError: false });

/** The cell failed with a one-line UsageError; returns its message. */
function usageError(r: ExecuteResult): string {
  expect(r.reply.content.status).toBe('error');
  const e = errorOf(r)!;
  expect(e.ename).toBe('UsageError');
  expect(e.traceback).toHaveLength(1);
  expect(e.evalue).not.toContain('\n');
  return e.evalue;
}

describe('%lsmagic and help', () => {
  it('%lsmagic lists line and cell magics with their descriptions', async () => {
    const text = streamOf(await run('%lsmagic'));
    for (const name of ['%env', '%lsmagic', '%time', '%timeit']) expect(text).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    for (const name of ['%%sh', '%%time', '%%timeit']) expect(text).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect(text).toContain('!command');
  });

  it('%timeit? and ?%%sh show usage, options and examples; %%timeit? too', async () => {
    const timeit = streamOf(await run('%timeit?'));
    expect(timeit).toContain('Usage: %timeit');
    expect(timeit).toMatch(/-n, --number N +Loops per run/);
    expect(timeit).toMatch(/-r, --repeat R +Number of runs.* \(default: 7\)/);
    expect(timeit).toContain('Examples:');
    expect(streamOf(await run('?%%sh'))).toContain('Usage: %%sh');
    expect(streamOf(await run('%%timeit?'))).toContain('Usage: %%timeit');
  });

  it('help for a magic that does not exist is a UsageError with a did-you-mean', async () => {
    expect(usageError(await run('%timit?'))).toContain('did you mean %timeit?');
  });
});

describe("a magic's value in a variable (x = %magic, as in IPython)", () => {
  it('binds the TimeitResult of `%timeit -o` to a typed variable, shown as its report', async () => {
    await run('function work(n: number) { let s = 0; for (let i = 0; i < n; i++) s += i; return s; }');
    const bound = await run('const t = %timeit -o -q -n 10 -r 3 work(100)');
    expect(bound.reply.content.status).toBe('ok');
    expect(streamOf(bound)).toBe(''); // -q: nothing printed
    expect(await evaluate(k, '[t.loops, t.repeat, t.timings.length, t.best <= t.worst]')).toBe('[ 10, 3, 3, true ]');
    expect(await evaluate(k, 't')).toMatch(/^\S+ .s ± \S+ .s per loop \(mean ± std\. dev\. of 3 runs, 10 loops each\)$/);
  });

  it('binds the value of `%time expr`', async () => {
    const r = await run('let answer = %time 6 * 7');
    expect(streamOf(r)).toMatch(/^CPU times: user .*\nWall time: /);
    expect(await evaluate(k, 'answer + 0')).toBe('42');
  });
});

describe('usage errors: one line, the valid choices, a did-you-mean', () => {
  it('an unknown line magic', async () => {
    const msg = usageError(await run('%tiem 1 + 1'));
    expect(msg).toContain('%tiem is not a line magic; did you mean %time?');
    expect(msg).toMatch(/available: .*%env.*%lsmagic.*%time.*%timeit/);
  });

  it('an unknown cell magic, and a line magic used as a cell magic', async () => {
    expect(usageError(await run('%%tme\n1'))).toContain('did you mean %%time?');
    expect(usageError(await run('%%lsmagic\n1'))).toContain('did you mean the line magic %lsmagic?');
  });

  it('an unknown option, a bad value, a value below the minimum, a missing value', async () => {
    const unknown = usageError(await run('%timeit -x 5 1 + 1'));
    expect(unknown).toContain('%timeit: unknown option -x');
    expect(unknown).toMatch(/valid: --number, --repeat, --precision, --quiet, --output/);
    expect(usageError(await run('%timeit --repaet 3 1'))).toContain('did you mean --repeat?');
    expect(usageError(await run('%timeit -n many 1'))).toContain("-n must be an integer ≥ 1, got 'many'");
    expect(usageError(await run('%timeit -r 0 1'))).toContain('-r must be an integer ≥ 1, got 0');
    expect(usageError(await run('%timeit -n'))).toContain('-n needs a value');
  });

  it('a missing statement, an empty cell body, a cell magic not on the first line', async () => {
    expect(usageError(await run('%time'))).toContain('%time needs a statement');
    expect(usageError(await run('%%sh'))).toContain('the cell body is empty');
    expect(usageError(await run('const z = 1;\n%%time\nz'))).toContain('%%time must be on the first line of the cell');
  });

  it('declared limits and patterns, and empty bodies, in the words of the spec; the kernel goes on', async () => {
    expect(usageError(await run('%%parallel -n 300\nlet a = 1;'))).toBe('%%parallel: -n must be an integer from 1 to 256, got 300');
    expect(usageError(await run('%pool --name 1x 2'))).toBe('%pool: --name 1x is not a variable name; e.g. %pool --name workers 4');
    expect(usageError(await run('%pool 2 --progress-after -0.5'))).toBe('%pool: --progress-after must be a number of seconds >= 0, or -1 for never; got -0.5');
    expect(usageError(await run('%%mpirun -np 2 --out a-b\nconst a = 1;'))).toContain('--out a-b is not a variable name; use --out NAME');
    expect(usageError(await run('%%mpirun -np 2\n  '))).toBe(
      '%%mpirun is a cell magic, but the cell body is empty: write the code every rank runs below the %%mpirun line',
    );
    expect(usageError(await run('%%time'))).toBe('%%time is a cell magic, but the cell body is empty: write the code below the %%time line');
    expect(await evaluate(k, '6 * 7')).toBe('42');
  });
});

describe('%time and %%time', () => {
  it('%time reports CPU and wall time and returns the value', async () => {
    const r = await run('%time 6 * 7');
    expect(streamOf(r)).toMatch(/^CPU times: user [\d.]+ (s|ms|µs|ns), sys: [\d.]+ (s|ms|µs|ns), total: [\d.]+ (s|ms|µs|ns)\nWall time: [\d.]+ (s|ms|µs|ns)\n$/);
    expect(resultOf(r)).toBe('42');
  });

  it('%%time keeps the declarations of its body', async () => {
    const r = await run('%%time\nconst timedValue = 5;\ntimedValue * 2');
    expect(streamOf(r)).toContain('Wall time:');
    expect(resultOf(r)).toBe('10');
    expect(await evaluate(k, 'timedValue + 1')).toBe('6');
  });
});

describe('%timeit and %%timeit', () => {
  it('-n and -r: the statement runs once to start, then n × r times', async () => {
    await evaluate(k, 'let calls = 0;');
    const r = await run('%timeit -n 5 -r 3 calls++');
    expect(streamOf(r)).toMatch(/^[\d.]+ (s|ms|µs|ns) ± [\d.]+ (s|ms|µs|ns) per loop \(mean ± std\. dev\. of 3 runs, 5 loops each\)\n$/);
    expect(await evaluate(k, 'calls')).toBe(String(1 + 5 * 3));
  });

  it('without -n chooses the loop count (a power of ten, runs of at least 0.2 s)', async () => {
    await evaluate(k, 'calls = 0;');
    const r = await run('%timeit -r 2 calls++');
    const m = /of 2 runs, ([\d,]+) loops? each\)/.exec(streamOf(r));
    expect(m).not.toBeNull();
    const loops = Number(m![1].replace(/,/g, ''));
    expect(Math.log10(loops) % 1).toBe(0);
    // one call to start, the search (1 + 10 + … + loops calls), then 2 runs of `loops`
    const calls = Number(await evaluate(k, 'calls'));
    expect(calls).toBe(1 + (10 * loops - 1) / 9 + 2 * loops);
  });

  it('%%timeit runs the setup on the magic line once, then times the body', async () => {
    await evaluate(k, 'let setups = 0;\nlet bodies = 0;');
    const r = await run('%%timeit -n 2 -r 2 setups++\nbodies++;');
    expect(streamOf(r)).toContain('(mean ± std. dev. of 2 runs, 2 loops each)');
    expect(await evaluate(k, '[setups, bodies]')).toBe('[ 1, 5 ]');
  });

  it('an awaiting statement is awaited on each call', async () => {
    await evaluate(k, 'let awaited = 0;');
    const r = await run('%timeit -n 2 -r 2 await sleep(1).then(() => awaited++)');
    expect(r.reply.content.status).toBe('ok');
    expect(await evaluate(k, 'awaited')).toBe('5');
  });
});

describe('shell: !cmd and %%sh', () => {
  it('!cmd streams its output live, while it still runs', async () => {
    const go = join(dir, 'go');
    let sawFirst = false;
    const r = await k.client.execute(`!echo first; while [ ! -f ${go} ]; do sleep 0.02; done; echo second`, {
      timeoutMs: 30_000,
      onIopub: (m) => {
        // the command waits for this file: it only ends if "first" arrived before it did
        if (m.header.msg_type === 'stream' && String(m.content.text).includes('first') && !sawFirst) {
          sawFirst = true;
          writeFileSync(go, '');
        }
      },
    });
    expect(r.reply.content.status).toBe('ok');
    expect(streamOf(r)).toBe('first\nsecond\n');
  });

  it('!cmd reports a non-zero exit code without failing the cell; stderr is kept apart', async () => {
    const r = await run('!echo out; echo err >&2; exit 3');
    expect(r.reply.content.status).toBe('ok');
    expect(streamOf(r, 'stdout')).toBe('out\n');
    expect(streamOf(r, 'stderr')).toBe('err\n[command exited with code 3: echo out; echo err >&2; exit 3]\n');
  });

  it('!cmd lines mix with TypeScript lines in order, in the notebook directory', async () => {
    const r = await run('console.log("ts 1");\n!echo "sh $(basename $PWD)"\nconsole.log("ts 2");');
    expect(streamOf(r)).toBe(`ts 1\nsh ${dir.split('/').at(-1)}\nts 2\n`);
  });

  it('%%sh runs the cell with bash; a failure is an error with the exit code; --no-raise only reports it', async () => {
    const ok = await run('%%sh\nfor i in 1 2; do echo "job $i"; done');
    expect(streamOf(ok)).toBe('job 1\njob 2\n');
    const failed = await run('%%sh\necho partial\nexit 4');
    expect(streamOf(failed)).toBe('partial\n');
    expect(errorOf(failed)).toMatchObject({ ename: 'ShellCommandError', evalue: 'command exited with code 4: echo partial' });
    const reported = await run('%%sh --no-raise\nexit 5');
    expect(reported.reply.content.status).toBe('ok');
    expect(streamOf(reported, 'stderr')).toBe('[exit code 5]\n');
  });
});

describe('%env', () => {
  it('sets a variable that later commands inherit, reads it back, and lists it', async () => {
    expect(streamOf(await run('%env TSP_MAGIC_VAR=hello world'))).toBe('env: TSP_MAGIC_VAR=hello world\n');
    expect(resultOf(await run('%env TSP_MAGIC_VAR'))).toBe('hello world');
    expect(streamOf(await run('!echo "$TSP_MAGIC_VAR"'))).toBe('hello world\n');
    expect(await evaluate(k, 'process.env.TSP_MAGIC_VAR')).toBe('hello world');
    expect(resultOf(await run('%env'))).toContain("TSP_MAGIC_VAR: 'hello world'");
  });

  it('reading a variable that is not set, or a bad name, is a UsageError', async () => {
    expect(usageError(await run('%env TSP_NOT_SET_ANYWHERE'))).toContain('TSP_NOT_SET_ANYWHERE is not set');
    expect(usageError(await run('%env 1BAD=x'))).toContain('is not a variable name');
  });
});

/**
 * IPython habits in a running kernel: %%writefile, %run, %who/%who_ls/%whos, `x = !cmd` and
 * `!!cmd`, `{expr}`/`$name` in shell commands, and their %lsmagic lines and `?` help.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCell } from '../dist/src/kernel/cell-parser.js';
import { startSession, type KernelSession, type Run } from './helpers/kernel-session.js';
import { descendants, survivors, waitForProcesses } from './helpers/process-tree.js';

let dir: string;
let k: KernelSession;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tslab-parallel-ipython-'));
  k = await startSession({ cwd: dir });
}, 60_000);
afterAll(async () => {
  await k?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The cell failed with a one-line UsageError; returns its message. */
function usageError(r: Run): string {
  expect(r.status).toBe('error');
  expect(r.error?.ename).toBe('UsageError');
  expect(r.error?.evalue).not.toContain('\n');
  return r.error!.evalue;
}

describe('%%writefile', () => {
  it('writes the body, creating folders, and says Writing / Overwriting / Appending to', async () => {
    const first = await k.run('%%writefile out/sub/hello.txt\nline one');
    expect(first.status).toBe('ok');
    expect(first.stdout).toBe('Writing out/sub/hello.txt\n');
    expect(readFileSync(join(dir, 'out/sub/hello.txt'), 'utf8')).toBe('line one\n');

    const again = await k.run('%%writefile out/sub/hello.txt\nreplaced');
    expect(again.stdout).toBe('Overwriting out/sub/hello.txt\n');
    expect(readFileSync(join(dir, 'out/sub/hello.txt'), 'utf8')).toBe('replaced\n');

    const append = await k.run('%%writefile -a out/sub/hello.txt\nmore\n');
    expect(append.stdout).toBe('Appending to out/sub/hello.txt\n');
    expect(readFileSync(join(dir, 'out/sub/hello.txt'), 'utf8')).toBe('replaced\nmore\n');
  });

  it('-a on a missing file creates it; quotes keep spaces; an empty body writes an empty file', async () => {
    expect((await k.run('%%writefile -a fresh.txt\nx')).stdout).toBe('Writing fresh.txt\n');
    expect(readFileSync(join(dir, 'fresh.txt'), 'utf8')).toBe('x\n');
    expect((await k.run('%%writefile "with space.txt"\ny')).stdout).toBe('Writing with space.txt\n');
    expect(readFileSync(join(dir, 'with space.txt'), 'utf8')).toBe('y\n');
    expect((await k.run('%%writefile empty.txt')).status).toBe('ok');
    expect(readFileSync(join(dir, 'empty.txt'), 'utf8')).toBe('');
  });

  it('expands {expr} and $name in the file name, not in the body', async () => {
    await k.run('const sub = "gen"; const ext = "txt";');
    const r = await k.run('%%writefile {sub}/file-{1 + 1}.$ext\nkeep {sub} and $ext');
    expect(r.stdout).toBe('Writing gen/file-2.txt\n');
    expect(readFileSync(join(dir, 'gen/file-2.txt'), 'utf8')).toBe('keep {sub} and $ext\n');
  });

  it('bad input: no file, a folder, an unknown flag, a path through a file', async () => {
    expect(usageError(await k.run('%%writefile\nbody'))).toMatch(/%%writefile needs the file to write.*Usage: %%writefile \[--append\] FILE/);
    expect(usageError(await k.run('%%writefile out\nbody'))).toBe('%%writefile: out is a folder; give a file name, e.g. %%writefile out/script.ts');
    expect(usageError(await k.run('%%writefile -x f.txt\nbody'))).toMatch(/unknown option -x.*valid: --append/);
    expect(usageError(await k.run('%%writefile fresh.txt/inner.txt\nbody'))).toMatch(/cannot write fresh.txt\/inner.txt: .*; choose a path you can write to/);
    expect(existsSync(join(dir, 'f.txt'))).toBe(false);
  });
});

describe('%run', () => {
  it('runs a .ts file with process.argv set; its top-level names are then defined; argv is restored', async () => {
    writeFileSync(join(dir, 'script.ts'), [
      'const args = process.argv.slice(2);',
      'function twice(x: number): number { return 2 * x; }',
      'const total = args.slice(0, 2).map(Number).reduce((a, b) => a + twice(b), 0);',
      'console.log(`argv1=${process.argv[1]} args=${args.join("|")}`);',
    ].join('\n'));
    const r = await k.run('%run script.ts 1 2 "three four"');
    expect(r.status).toBe('ok');
    expect(r.stdout).toBe(`argv1=${join(dir, 'script.ts')} args=1|2|three four\n`);
    expect((await k.run('total + twice(10)')).result).toBe('26');
    expect((await k.run('process.argv.includes("three four")')).result).toBe('false');
  });

  it('expands {expr} and $name in its line', async () => {
    writeFileSync(join(dir, 'echo-args.ts'), 'console.log(process.argv.slice(2).join(" "));\n');
    await k.run('const base = "echo-args"; const count = 3;');
    expect((await k.run('%run {base}.ts $count {count * 2}')).stdout).toBe('3 6\n');
  });

  it('runs .js without type checking, and finds FILE.ts for FILE', async () => {
    writeFileSync(join(dir, 'plain.js'), 'let fromJs = 1;\nfromJs = "now a string";\nconsole.log(typeof fromJs);\n');
    const js = await k.run('%run plain.js');
    expect(js.status).toBe('ok');
    expect(js.stdout).toBe('string\n');
    writeFileSync(join(dir, 'helpers.ts'), '#!/usr/bin/env node\nexport const helperValue = 41 + 1;\nexport function helper() {}\nexport { helper as alias };\n');
    expect((await k.run('%run helpers\nhelperValue')).result).toBe('42');
  });

  it("a runtime error names the file and quotes the file's line", async () => {
    writeFileSync(join(dir, 'fails.ts'), ['const a = 1;', 'function inner(): never {', '  throw new RangeError("bad size " + a);', '}', 'inner();'].join('\n'));
    const r = await k.run('%run fails.ts arg');
    expect((await k.run('process.argv.includes("arg")')).result).toBe('false');
    expect(r.status).toBe('error');
    expect(r.error?.ename).toBe('RangeError');
    expect(r.error?.traceback).toMatch(/at inner \(fails\.ts:3:\d+\)/);
    expect(r.error?.traceback).toMatch(/fails\.ts, line 3\n(.*\n)*----> 3 {3}throw new RangeError\("bad size " \+ a\);/);
  });

  it("a type error names the file and quotes the file's line", async () => {
    writeFileSync(join(dir, 'typed.ts'), 'const n: number = 1;\nconst s: string = n;\n');
    const r = await k.run('%run typed.ts');
    expect(r.error?.ename).toBe('CompileError');
    expect(r.error?.evalue).toMatch(/^typed\.ts, line 2: Type 'number' is not assignable to type 'string'/);
    expect(r.error?.traceback).toContain('----> 2 const s: string = n;');
  });

  it('bad input: no file, a missing file, a folder, a Python file', async () => {
    expect(usageError(await k.run('%run'))).toMatch(/^%run needs the file to run and its arguments.*Usage: %run FILE/);
    expect(usageError(await k.run('%run nope.ts 1'))).toBe(`%run: file not found: nope.ts (in ${dir}); check the name, or write it first with %%writefile nope.ts`);
    mkdirSync(join(dir, 'scripts'), { recursive: true });
    expect(usageError(await k.run('%run scripts'))).toMatch(/^%run: scripts is a folder; give the script in it, e.g. %run scripts\/main.ts$/);
    writeFileSync(join(dir, 'job.py'), 'print(1)\n');
    expect(usageError(await k.run('%run job.py'))).toMatch(/^%run: job\.py is not a TypeScript or JavaScript file .*; run Python with !python3 job\.py$/);
  });
});

describe('%who, %who_ls, %whos', () => {
  let k2: KernelSession;
  beforeAll(async () => {
    k2 = await startSession({ cwd: dir });
  }, 60_000);
  afterAll(async () => {
    await k2?.stop();
  });

  it('an empty notebook: the prelude names are not listed', async () => {
    expect((await k2.run('%who')).stdout).toBe('Interactive namespace is empty.\n');
    expect((await k2.run('%whos')).stdout).toBe('Interactive namespace is empty.\n');
    expect((await k2.run('%who_ls')).result).toBe('[]');
  });

  it("lists the notebook's names sorted, with type, summary and signature", async () => {
    await k2.run([
      'const A = new Float64Array(1000);',
      'const n = 42;',
      'let label = "heat";',
      'const xs = [1, 2, 3];',
      'function scale(v: number, by = 2): number { return v * by; }',
      'class Grid { constructor(readonly n: number) {} }',
      'const _private = 1;',
    ].join('\n'));
    expect((await k2.run('%who')).stdout).toBe('A\tGrid\tlabel\tn\tscale\txs\n');
    const names = await k2.run('const names = %who_ls\nnames.join(",")');
    expect(names.result).toBe('A,Grid,label,n,scale,xs');
    const table = (await k2.run('%whos')).stdout.split('\n');
    expect(table[0]).toMatch(/^Variable +Type +Data\/Info$/);
    expect(table[1]).toMatch(/^-{20,}$/);
    const row = (name: string) => table.find((l) => l.startsWith(`${name} `))?.replace(/ {2,}/g, ' | ');
    expect(row('A')).toBe('A | Float64Array | Float64Array(1000) 7.8 KiB');
    expect(row('n')).toBe('n | number | 42');
    expect(row('label')).toBe("label | string | 'heat'");
    expect(row('xs')).toBe('xs | Array | Array(3) [ 1, 2, 3 ]');
    expect(row('scale')).toBe('scale | function | scale(v: number, by?: number): number');
    expect(row('Grid')).toMatch(/^Grid \| class \| Grid/);
    expect(table.some((l) => l.startsWith('_private') || l.startsWith('display'))).toBe(false);
    await k2.run('const trap = new Proxy({}, { getPrototypeOf() { throw new Error("no"); } });');
    expect((await k2.run('%whos')).stdout).toMatch(/^trap +\? +\(cannot be inspected\)$/m);
  });

  it('type names filter; an unknown type lists nothing', async () => {
    expect((await k2.run('%who function Float64Array')).stdout).toBe('A\tscale\n');
    expect((await k2.run('%whos number')).stdout).toMatch(/^Variable.*\n-+\nn +number +42\n$/);
    expect((await k2.run('%who Float32Array')).stdout).toBe('Interactive namespace is empty.\n');
  });

  it('names from %run scripts and magics are listed', async () => {
    writeFileSync(join(dir, 'defs.ts'), 'const fromScript = new Int32Array(4);\n');
    await k2.run('%run defs.ts');
    expect((await k2.run('%who Int32Array')).stdout).toBe('fromScript\n');
    expect((await k2.run('const t = %time 1 + 1\n%who_ls')).result).toContain("'t'");
  });
});

describe('x = !cmd and !!cmd (%sx)', () => {
  it('x = !cmd binds the output lines (stdout and stderr in order) as a string array', async () => {
    const r = await k.run('const lines = !printf "a\\nb b\\n"; echo err >&2; echo c\nlines');
    expect(r.status).toBe('ok');
    expect(r.stdout).toBe(''); // captured, not shown
    expect((await k.run('lines.length + ":" + lines.join("|")')).result).toBe('4:a|b b|err|c');
    expect((await k.run('const upper: string[] = lines.map((l) => l.toUpperCase()); upper[0]')).result).toBe('A');
    expect((await k.run('let empty = !printf ""\nempty.length')).result).toBe('0');
    expect((await k.run('const cores = !nproc\nNumber(cores[0]) > 0')).result).toBe('true');
    expect((await k.run('const lines = !echo again\nlines')).result).toBe("[ 'again' ]"); // a rerun rebinds
  });

  it('!!cmd shows the lines as the cell value; a failing command still gives its output', async () => {
    expect((await k.run('!!printf "x\\ny\\n"')).result).toBe("[ 'x', 'y' ]");
    const failed = await k.run('!!ls /no/such/dir');
    expect(failed.status).toBe('ok');
    expect(failed.result).toMatch(/No such file or directory/);
  });

  it('x = !y stays a negation when the notebook (or the cell above) knows y', async () => {
    await k.run('const failed = false;');
    expect((await k.run('const ok = !failed\nok')).result).toBe('true');
    expect((await k.run('const flag = true;\nconst notFlag = !flag\nnotFlag')).result).toBe('false');
    expect((await k.run('const neg = !Array.isArray(lines)\nneg')).result).toBe('false');
    // Completion splits the cell the same way: the negation is code, so its name is known below.
    const code = 'const notFailed = !failed\nnotFailed.';
    const reply = await k.kernel.client.request('shell', 'complete_request', { code, cursor_pos: code.length });
    expect(reply.content.matches).toContain('valueOf');
  });

  it('the parser: command or negation, by what the notebook and the cell above know', () => {
    const kind = (text: string, known: string[] = []) => parseCell(text, (n: string) => known.includes(n)).map((x) => (x.kind === 'line-magic' ? `${x.name}>${x.assign ?? ''}:${x.args}` : x.kind));
    expect(kind('files = !ls -la')).toEqual(['sx>files:ls -la']);
    expect(kind('const cores = !nproc')).toEqual(['sx>cores:nproc']);
    expect(kind('const ok = !failed', ['failed'])).toEqual(['code']);
    expect(kind('let done = false;\nconst more = !done')).toEqual(['code']);
    expect(kind('x = !Number.isNaN(y)', ['y'])).toEqual(['code']);
    expect(kind('!!ls')).toEqual(['sx>:ls']);
    expect(kind('const t = `\nx = !ls\n`;')).toEqual(['code']); // inside a template literal
    expect(kind('  x = !ls')).toEqual(['code']); // indented: TypeScript, as for other magics
  });

  it('an interrupt ends the captured command; the variable is not bound', async () => {
    const running = k.start('const slow = !echo started; sleep 300');
    const sleeps = await waitForProcesses(() => descendants(k.pid).filter((p) => p.command === 'sleep 300'));
    await k.kernel.client.interrupt();
    const r = await running;
    expect(r.error?.ename).toBe('KeyboardInterrupt');
    expect(await survivors(sleeps)).toEqual([]);
    expect((await k.run('typeof slow')).error?.evalue).toMatch(/Cannot find name 'slow'/);
  });

  it('bad input: %sx without a command', async () => {
    expect(usageError(await k.run('%sx'))).toMatch(/^%sx needs a shell command, e\.g\. %sx ls/);
  });
});

describe('{expr} and $name in !cmd and %%sh', () => {
  it('expands notebook expressions and names; {{ }} and $$ escape; unknown names go to the shell', async () => {
    await k.run('const n = 6; const cfg = { name: "heat", size: 3 };');
    const r = await k.run('!n=shell; echo n={n * 7} $n $cfg.name {{literal}} $$n $HOME ${HOME} {}');
    expect(r.stdout).toBe(`n=42 6 heat {literal} shell ${process.env.HOME} ${process.env.HOME} {}\n`);
  });

  it('${expr} is replaced whole, as in a template literal; ${VAR} of the shell is left to it', async () => {
    const r = await k.run(`!echo \${n + 1} \${HOME} '\${n}' "\${n}"`);
    expect(r.stdout).toBe(`7 ${process.env.HOME} \${n} 6\n`);
  });

  it("leaves $name inside single quotes and the shell's braces alone", async () => {
    const r = await k.run(`!echo '$n' "$n" | awk '{print $1}'; echo {1..3} {nope.x}`);
    expect(r.stdout).toBe('$n\n1 2 3 {nope.x}\n');
  });

  it('expands in %%sh bodies and in x = !cmd', async () => {
    const sh = await k.run('%%sh\nfor i in 1 2; do echo "$i of {n} $cfg.size"; done');
    expect(sh.stdout).toBe('1 of 6 3\n2 of 6 3\n');
    expect((await k.run('const got = !echo {cfg.size + 1}\ngot[0]')).result).toBe('4');
  });
});

describe('%lsmagic and help cover them', () => {
  const magics = ['%%writefile', '%run', '%who', '%who_ls', '%whos', '%sx'];

  it('%lsmagic lists each with its description, and the shell forms', async () => {
    const text = (await k.run('%lsmagic')).stdout;
    for (const name of magics) expect(text).toMatch(new RegExp(`^  ${name} +[A-Z]\\S`, 'm'));
    expect(text).toContain('x = !command and !!command capture its output lines; {expr} and $name insert notebook values');
  });

  it('%name? shows usage, description and examples for each', async () => {
    for (const name of magics) {
      const help = (await k.run(`${name}?`)).stdout;
      expect(help, name).toContain(`Usage: ${name}`);
      expect(help, name).toContain('Examples:');
    }
    expect((await k.run('%%writefile?')).stdout).toMatch(/-a, --append +Append to FILE/);
    expect((await k.run('%sx?')).stdout).toContain('`x = !cmd` stores them in x and `!!cmd` shows them');
    expect((await k.run('%%sh?')).stdout).toContain('{expr} is replaced by the value of a TypeScript expression');
  });
});

/**
 * Magic parsing, as a unit: how a cell splits into TypeScript, line magics, shell lines and a
 * cell magic (with the cell's line numbers); how magic arguments are parsed against a spec; the
 * UsageErrors for every mistake (valid choices, did-you-mean); and fuzzers: random cells and
 * random argument lines give segments or a UsageError, never anything else.
 */
import { describe, expect, it } from 'vitest';
import { endsInsideLiteral, isMisplacedCellMagic, parseCell, type Segment } from '../dist/src/kernel/cell-parser.js';
import { checkBody, parseArgs, tokenize, usage } from '../dist/src/magics/args.js';
import { createMagicRegistry } from '../dist/src/magics/index.js';
import { closest } from '../dist/src/magics/suggest.js';
import { UsageError, type MagicSpec } from '../dist/src/magics/types.js';
import { kFuzzSeed, kMagicWords, Random } from './helpers/fuzz.js';

const registry = createMagicRegistry();

/**
 * The test loads dist through vitest while dist's modules require each other through Node, so
 * UsageError may exist twice: recognise it by name and class name.
 */
function isUsageError(err: unknown): boolean {
  return err instanceof Error && err.name === 'UsageError' && (err instanceof UsageError || err.constructor.name === 'UsageError');
}

describe('parseCell', () => {
  it('splits TypeScript, line magics and shell lines in order, with their cell lines', () => {
    const segments = parseCell('const a = 1;\n%time a + 1\n!echo hi\n\nconsole.log(a);\n%env X=1');
    expect(segments).toEqual([
      { kind: 'code', source: 'const a = 1;', line: 1 },
      { kind: 'line-magic', name: 'time', help: false, args: 'a + 1', line: 2 },
      { kind: 'shell', command: 'echo hi', line: 3 },
      { kind: 'code', source: '\nconsole.log(a);', line: 4 },
      { kind: 'line-magic', name: 'env', help: false, args: 'X=1', line: 6 },
    ]);
  });

  it('a cell magic takes the whole cell (after blank lines); its body starts on the next line', () => {
    expect(parseCell('\n%%timeit -n 3 setup()\nbody();\n%time x')).toEqual([
      { kind: 'cell-magic', name: 'timeit', help: false, args: '-n 3 setup()', body: 'body();\n%time x', line: 2 },
    ]);
  });

  it('help: %name?, %name??, ?%name, %%name? and ?%%name', () => {
    const help = (text: string) => parseCell(text).map((s: Segment) => [s.kind, 'name' in s ? s.name : '', 'help' in s ? s.help : false]);
    expect(help('%time?')).toEqual([['line-magic', 'time', true]]);
    expect(help('%time??')).toEqual([['line-magic', 'time', true]]);
    expect(help('?%time')).toEqual([['line-magic', 'time', true]]);
    expect(help('%%sh?')).toEqual([['cell-magic', 'sh', true]]);
    expect(help('?%%sh')).toEqual([['cell-magic', 'sh', true]]);
  });

  it('a cell magic below the first line is flagged as misplaced (to say so, rather than a syntax error)', () => {
    const [code, magic] = parseCell('const x = 1;\n%%time');
    expect(code.kind).toBe('code');
    expect(isMisplacedCellMagic(magic)).toBe(true);
  });

  it('magic and shell lines start at column 0; indented ones, `% x` and `%1` are TypeScript', () => {
    for (const text of ['  %time 1', '\t!ls', '% time', '%1bad', '!', 'if (!done) {}']) {
      expect(parseCell(text).map((s) => s.kind), text).toEqual(['code']);
    }
  });

  it('CRLF line ends are accepted', () => {
    expect(parseCell('%time 1\r\nconst y = 2;\r\n')).toEqual([
      { kind: 'line-magic', name: 'time', help: false, args: '1', line: 1 },
      { kind: 'code', source: 'const y = 2;\r\n', line: 2 },
    ]);
  });

  it('lines inside multi-line template literals, strings and block comments are never magics or commands', () => {
    const kinds = (text: string) => parseCell(text).map((s) => s.kind);
    expect(kinds('const md = `\n!important\n%time x\n`;\nmd')).toEqual(['code']);
    expect(kinds('display.latex(`\n%comment in LaTeX\n`);')).toEqual(['code']);
    expect(kinds('const t = `a ${1 + 1}\n!rm -rf nothing\n`;')).toEqual(['code']);
    expect(kinds('const t = `a ${\n%env X\n}`;')).toEqual(['code']);
    expect(kinds('/*\n!not a command\n*/\n1')).toEqual(['code']);
    expect(kinds('const s = "continued \\\n%time";')).toEqual(['code']);
    // … but after a literal has ended, they are
    expect(kinds('const s = `${`inner`}`;\n!echo ok')).toEqual(['code', 'shell']);
    expect(kinds('const re = /`/;\n%time 1')).toEqual(['code', 'line-magic']);
    expect(kinds('let a = 4;\na /= 2;\n!echo ok')).toEqual(['code', 'shell']);
    expect(kinds('x = 1; // `\n%time 1')).toEqual(['code', 'line-magic']);
    expect(endsInsideLiteral('const ok = "`";')).toBe(false);
  });
});

describe('parseArgs', () => {
  const timeit = registry.get('line', 'timeit');

  it('options by long name, alias, attached value, = value; the rest verbatim', () => {
    expect(parseArgs(timeit, '-n 3 -r2 --precision=4 f(x, "a b")')).toEqual({ number: 3, repeat: 2, precision: 4, statement: 'f(x, "a b")' });
    expect(parseArgs(timeit, '-n4 -q -o x y')).toEqual({ number: 4, repeat: 7, precision: 3, quiet: true, output: true, statement: 'x y' });
  });

  it('-- ends the options; options after the statement belong to it', () => {
    expect(parseArgs(timeit, '-- -n 3')).toMatchObject({ statement: '-n 3' });
    expect(parseArgs(timeit, 'f() -n 3')).toMatchObject({ statement: 'f() -n 3' });
  });

  it('tokenize keeps quoted spaces and reports unterminated quotes', () => {
    expect(tokenize(`a "b c" 'd e'f`).map((t) => t.text)).toEqual(['a', 'b c', 'd ef']);
    expect(() => tokenize('a "b')).toThrow('unterminated double quote in: a "b');
  });

  it('every mistake is a UsageError that names the problem and the fix', () => {
    const error = (spec: MagicSpec, line: string) => {
      try {
        parseArgs(spec, line);
      } catch (err) {
        expect(isUsageError(err)).toBe(true);
        return (err as Error).message;
      }
      throw new Error(`no error for ${line}`);
    };
    expect(error(timeit, '-x 1')).toBe('%timeit: unknown option -x; did you mean -n? (valid: --number, --repeat, --precision, --quiet, --output)');
    expect(error(timeit, '--repaet 3 1')).toContain('unknown option --repaet; did you mean --repeat?');
    expect(error(timeit, '-n abc 1')).toBe("%timeit: -n must be an integer ≥ 1, got 'abc'");
    expect(error(timeit, '-n 0 1')).toBe('%timeit: -n must be an integer ≥ 1, got 0');
    expect(error(timeit, '-q=yes 1')).toBe('%timeit: -q takes no value');
    expect(error(registry.get('line', 'time'), '')).toBe('%time needs a statement to time. Usage: %time STATEMENT');
    expect(error(registry.get('cell', 'sh'), 'extra')).toBe("%%sh: unexpected argument 'extra'. Usage: %%sh [--no-raise]");
  });

  it('declared constraints: min and max, a pattern with its fix, a required cell body', () => {
    const spec: MagicSpec = {
      name: 'demo',
      kind: 'cell',
      description: 'A test magic.',
      args: [
        { kind: 'option', name: 'threads', aliases: ['n'], type: 'integer', min: 1, max: 8, help: 'threads.' },
        { kind: 'option', name: 'ratio', type: 'number', max: 1, help: 'a ratio.' },
        { kind: 'option', name: 'out', type: 'string', repeatable: true, pattern: { regex: /^[a-z]+$/, expected: 'a name', fix: 'use --out NAME' }, help: 'names.' },
      ],
      bodyHolds: 'the loop',
      handler: () => undefined,
    };
    expect(() => parseArgs(spec, '-n 9')).toThrow('%%demo: -n must be an integer from 1 to 8, got 9');
    expect(() => parseArgs(spec, '-n 0')).toThrow('%%demo: -n must be an integer from 1 to 8, got 0');
    expect(() => parseArgs(spec, '--ratio 1.5')).toThrow('%%demo: --ratio must be a number ≤ 1, got 1.5');
    expect(() => parseArgs(spec, '--out a --out B')).toThrow('%%demo: --out B is not a name; use --out NAME');
    expect(parseArgs(spec, '-n 8 --ratio 1 --out a --out b')).toMatchObject({ threads: 8, ratio: 1, out: ['a', 'b'] });
    expect(() => checkBody(spec, ' \n')).toThrow('%%demo is a cell magic, but the cell body is empty: write the loop below the %%demo line');
    expect(() => checkBody({ ...spec, body: 'optional' }, '')).not.toThrow();
    // without a declaration: required unless the magic takes a rest argument (%%timeit's setup)
    expect(() => checkBody(registry.get('cell', 'time'), '')).toThrow('%%time is a cell magic, but the cell body is empty: write the code below the %%time line');
    expect(() => checkBody(registry.get('cell', 'timeit'), '')).not.toThrow();
    expect(() => checkBody(registry.get('line', 'time'), '')).not.toThrow();
  });

  it('the magics declare their limits: %%parallel -n at most 256, --schedule, %pool --name, %%mpirun --out', () => {
    expect(() => parseArgs(registry.get('cell', 'parallel'), '-n 257')).toThrow('%%parallel: -n must be an integer from 1 to 256, got 257');
    expect(parseArgs(registry.get('cell', 'parallel'), '-n 256 --schedule dynamic,64')).toMatchObject({ threads: 256, schedule: 'dynamic,64' });
    expect(() => parseArgs(registry.get('cell', 'parallel'), '--schedule static,0')).toThrow('%%parallel: --schedule static,0 is not a schedule');
    expect(() => parseArgs(registry.get('line', 'pool'), '--name 1x')).toThrow('%pool: --name 1x is not a variable name; e.g. %pool --name workers 4');
    expect(() => parseArgs(registry.get('cell', 'mpirun'), '-np 2 --out a-b')).toThrow("%%mpirun: --out a-b is not a variable name; use --out NAME (rank 0's value) or --out NAME@all (every rank's)");
    expect(parseArgs(registry.get('cell', 'mpirun'), '-np 2 --out a --out b@all')).toMatchObject({ out: ['a', 'b@all'] });
    expect(() => checkBody(registry.get('cell', 'mpirun'), '')).toThrow('write the code every rank runs below the %%mpirun line');
  });

  it('usage lines come from the spec', () => {
    expect(usage(timeit)).toBe('%timeit [--number N] [--repeat R] [--precision P] [--quiet] [--output] STATEMENT');
  });
});

describe('the magic registry', () => {
  it('unknown names: the valid choices and a did-you-mean; the other kind is pointed out', () => {
    expect(() => registry.get('line', 'tiem')).toThrow(/^%tiem is not a line magic; did you mean %time\? \(available: %env, %lsmagic(, %\w+)*, %time, %timeit\b.*; %lsmagic lists them\)$/);
    expect(() => registry.get('cell', 'lsmagic')).toThrow('%%lsmagic is not a cell magic; did you mean the line magic %lsmagic?');
    expect(() => registry.get('line', 'zzzzzz')).toThrow(/^%zzzzzz is not a line magic \(available: /);
  });

  it('help text comes from the spec: usage, description, options with defaults, examples', () => {
    const help = registry.help('line', 'timeit');
    expect(help).toMatch(/^Usage: %timeit /);
    expect(help).toMatch(/-r, --repeat R +Number of runs\. \(default: 7\)/);
    expect(help).toContain('Examples:\n  %timeit');
  });

  it('did-you-mean only suggests close names', () => {
    expect(closest('tiem', ['time', 'timeit', 'env'])).toBe('time');
    expect(closest('xyzzy', ['time', 'timeit', 'env'])).toBeUndefined();
  });
});

describe(`fuzzing the magic parser (seed ${kFuzzSeed})`, () => {
  const specs = (['line', 'cell'] as const).flatMap((kind) => registry.list(kind));

  it('random cells always split into segments that cover the cell, with valid line numbers', () => {
    const rnd = new Random();
    for (let i = 0; i < 2000; i++) {
      const lines = Array.from({ length: rnd.int(1, 8) }, () => {
        const lead = rnd.pick(['', '', '%', '%%', '!', '?%', '  ', '`', '/*', '*/', '"']);
        return lead + Array.from({ length: rnd.int(0, 5) }, () => (rnd.chance(0.6) ? rnd.pick(kMagicWords) : rnd.string(rnd.int(0, 8)))).join(rnd.pick([' ', '', '\t']));
      });
      const text = lines.join('\n');
      const lineCount = text.split('\n').length; // random strings may hold newlines too
      const segments = parseCell(text);
      for (const s of segments) {
        expect(s.line).toBeGreaterThanOrEqual(1);
        expect(s.line).toBeLessThanOrEqual(lineCount);
        if (s.kind === 'code') expect(text).toContain(s.source);
        if (s.kind === 'line-magic' || s.kind === 'cell-magic') expect(s.name).toMatch(/^[A-Za-z_][\w-]*$/);
      }
      const lineOf = segments.map((s) => s.line);
      expect(lineOf).toEqual([...lineOf].sort((a, b) => a - b));
    }
  });

  it('random argument lines for every magic: parsed arguments or a one-line UsageError', () => {
    const rnd = new Random(kFuzzSeed + 1);
    let errors = 0;
    for (let i = 0; i < 4000; i++) {
      const spec = rnd.pick(specs);
      // one line, as the kernel hands it over (a magic's arguments never hold a line break)
      const line = Array.from({ length: rnd.int(0, 6) }, () => (rnd.chance(0.75) ? rnd.pick(kMagicWords) : rnd.string(rnd.int(0, 6))))
        .join(rnd.pick([' ', '  ', '\t', '=']))
        .replace(/[\n\r]/g, ' ');
      try {
        const args = parseArgs(spec, line);
        expect(typeof args).toBe('object');
      } catch (err) {
        errors++;
        expect(isUsageError(err), `${spec.name} ${JSON.stringify(line)}: ${String(err)}`).toBe(true);
        expect((err as Error).message).not.toMatch(/\n/);
        expect((err as Error).message.length).toBeGreaterThan(10);
      }
    }
    expect(errors).toBeGreaterThan(100); // the generator does make mistakes
  });

  it('random magic names: a UsageError with the available magics', () => {
    const rnd = new Random(kFuzzSeed + 2);
    for (let i = 0; i < 500; i++) {
      const name = rnd.string(rnd.int(1, 10), 'abcdefghijklmnopqrstuvwxyz_-0123456789');
      const kind = rnd.pick(['line', 'cell'] as const);
      if (registry.has(kind, name)) continue;
      let error: unknown;
      try {
        registry.get(kind, name);
      } catch (err) {
        error = err;
      }
      expect(isUsageError(error)).toBe(true);
      expect((error as Error).message).toMatch(/available|did you mean/);
    }
  });
});

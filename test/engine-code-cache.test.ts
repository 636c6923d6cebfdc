/**
 * The code cache the kernel loads tslab's TypeScript with (src/engine/code-cache.ts): a module
 * loaded through it behaves as with require; a cache is written once and then used (a second
 * process writes none); a corrupt cache is replaced; an unusable cache directory only means no
 * cache, and leaves no partial file. Each load runs in a fresh Node process, as kernels do.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const kCodeCache = resolve(__dirname, '..', 'dist', 'src', 'engine', 'code-cache.js');

let dir: string;
let moduleFile: string;
let cacheDir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tslab-parallel-code-cache-'));
  moduleFile = join(dir, 'lib', 'answer.js');
  mkdirSync(join(dir, 'lib'));
  // Enough functions that V8 has code to cache; require, __filename and module work as in CommonJS.
  const fns = Array.from({ length: 50 }, (_, i) => `function f${i}(x) { return x * ${i} + ${i}; }`).join('\n');
  writeFileSync(moduleFile, `${fns}\nmodule.exports = { answer: f1(41) - 1, file: __filename, sep: require('node:path').sep, self: module.id === __filename };\n`);
  cacheDir = join(dir, 'cache');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Loads the module in a fresh process through the cache, then writes caches; returns its exports. */
function loadInFreshProcess(): { answer: number; file: string; sep: string; self: boolean } {
  const script = `const c = require(${JSON.stringify(kCodeCache)});
const m = c.requireWithCodeCache(${JSON.stringify(moduleFile)}, ${JSON.stringify(cacheDir)});
c.writeCodeCaches();
process.stdout.write(JSON.stringify(m));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { answer: number; file: string; sep: string; self: boolean };
}

const cacheFiles = () => readdirSync(cacheDir);

describe('the code cache', () => {
  it('loads a module as require does, writes its cache once, and uses it in the next process', () => {
    expect(loadInFreshProcess()).toEqual({ answer: 41, file: moduleFile, sep: '/', self: true });
    expect(cacheFiles()).toHaveLength(1);
    const [file] = cacheFiles();
    expect(file).toMatch(/^answer-.*\.v8cache$/);
    const written = statSync(join(cacheDir, file)).mtimeMs;
    const bytes = readFileSync(join(cacheDir, file));

    expect(loadInFreshProcess().answer).toBe(41);
    // Accepted by V8: nothing was written again.
    expect(cacheFiles()).toEqual([file]);
    expect(statSync(join(cacheDir, file)).mtimeMs).toBe(written);
    expect(readFileSync(join(cacheDir, file)).equals(bytes)).toBe(true);
  });

  it('replaces a corrupt cache, and a cache of an older version of the module', () => {
    loadInFreshProcess();
    const [file] = cacheFiles();
    writeFileSync(join(cacheDir, file), 'not a V8 code cache');
    expect(loadInFreshProcess().answer).toBe(41);
    expect(cacheFiles()).toEqual([file]);
    expect(readFileSync(join(cacheDir, file), 'utf8')).not.toBe('not a V8 code cache');

    // The module changes (its size does): the new cache replaces the old one.
    writeFileSync(moduleFile, `${readFileSync(moduleFile, 'utf8')}\n// changed\n`);
    expect(loadInFreshProcess().answer).toBe(41);
    expect(cacheFiles()).toHaveLength(1);
    expect(cacheFiles()[0]).not.toBe(file);
  });

  it('without a usable cache directory loads the module all the same and leaves no file', () => {
    writeFileSync(cacheDir, 'a file where the cache directory should be');
    expect(loadInFreshProcess().answer).toBe(41);
    expect(readFileSync(cacheDir, 'utf8')).toBe('a file where the cache directory should be');
    expect(readdirSync(dir).sort()).toEqual(['cache', 'lib']);
    // Under /proc, Node's recursive mkdir never returns: the load and the write must.
    cacheDir = '/proc/tslab-parallel-no-such-dir/cache';
    expect(loadInFreshProcess().answer).toBe(41);
  });
});

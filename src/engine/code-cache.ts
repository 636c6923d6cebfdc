/**
 * V8's code cache for tslab's TypeScript (9 MB of JavaScript): compiling it, and then the
 * functions that creating the checker runs, costs about a tenth of the kernel's start, which a
 * cache written by an earlier kernel saves. Node 20 has no module.enableCompileCache (Node 22),
 * so this one module is loaded through vm.Script with cachedData. The cache lives in
 * $XDG_CACHE_HOME/tslab-parallel (~/.cache/tslab-parallel); V8 rejects one that does not match
 * the source or the flags, and then a new one is written. Without a writable cache directory
 * the module simply loads as usual.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

interface Unwritten {
  readonly script: Script;
  readonly file: string;
  readonly prefix: string;
}

/** A module loaded without a usable cache: its cache is written by writeCodeCaches(). */
const unwritten: Unwritten[] = [];

export function codeCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tslab-parallel');
}

/** A change made to a module's source before it is compiled; `tag` names it in the cache file. */
export interface SourcePatch {
  readonly tag: string;
  apply(source: string): string;
}

/** `require(file)` (an absolute path of a CommonJS module), compiled with the code cache. */
export function requireWithCodeCache(file: string, dir = codeCacheDir(), patch?: SourcePatch): unknown {
  const loaded = require.cache[file];
  if (loaded) return loaded.exports;
  const original = readFileSync(file, 'utf8');
  const source = patch ? patch.apply(original) : original;
  const { size, mtimeMs } = statSync(file);
  const prefix = `${basename(file, '.js')}-`;
  const tag = patch && source !== original ? `${patch.tag}-` : '';
  const cacheFile = join(dir, `${prefix}${tag}${size}-${Math.round(mtimeMs)}-${process.version}-${process.arch}.v8cache`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // none yet
  }
  const script = new Script(Module.wrap(source), { filename: file, cachedData });
  const m = new Module(file, module);
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(file));
  require.cache[file] = m;
  try {
    (script.runInThisContext() as (...args: unknown[]) => void).call(m.exports, m.exports, createRequire(file), m, file, dirname(file));
  } catch (err) {
    delete require.cache[file];
    throw err;
  }
  m.loaded = true;
  if (!cachedData || script.cachedDataRejected) unwritten.push({ script, file: cacheFile, prefix });
  return m.exports;
}

/**
 * Writes the caches of modules loaded without one, with the functions compiled since (call it
 * after the compiler has done its first work). Replaces older caches of the same module.
 */
export function writeCodeCaches(): void {
  for (const { script, file, prefix } of unwritten.splice(0)) {
    const partial = `${file}.${process.pid}.tmp`;
    try {
      const dir = dirname(file);
      makeDirectory(dirname(dir));
      makeDirectory(dir);
      for (const old of readdirSync(dir)) if (old.startsWith(prefix) && old !== basename(file)) rmSync(join(dir, old), { force: true });
      writeFileSync(partial, script.createCachedData());
      renameSync(partial, file); // another kernel starting now reads a whole file or none
    } catch {
      // A read-only or full cache directory: the next start compiles as this one did.
      try {
        rmSync(partial, { force: true });
      } catch {
        // no directory to leave it in
      }
    }
  }
}

/**
 * One level, no `recursive`: Node's recursive mkdir never returns under a parent that keeps
 * answering ENOENT (XDG_CACHE_HOME in /proc), and a kernel must not hang for a cache.
 */
function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

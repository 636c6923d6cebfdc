/**
 * A PATH that holds only Node and the core tools a Debian base system has: what a new user with
 * nothing but Node sees. No jupyter, no python3, no mpirun, no GNU parallel, no chromium. Each
 * tool is a symlink in a temp bin folder to the machine's own.
 */
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** bash, coreutils, findutils, grep, sed: what the lectures' shell cells and npm's scripts use. */
const kCoreTools = [
  'sh', 'bash', 'env', 'cat', 'ls', 'sort', 'seq', 'wc', 'rm', 'mkdir', 'rmdir', 'cp', 'mv', 'ln', 'touch', 'chmod',
  'grep', 'sed', 'xargs', 'find', 'nproc', 'echo', 'printf', 'head', 'tail', 'tr', 'cut', 'dirname', 'basename',
  'uname', 'mktemp', 'true', 'false', 'test', 'sleep', 'date', 'id', 'readlink', 'realpath', 'tee', 'which',
];

export interface BarePath {
  readonly dir: string;
  /** The PATH value: only `dir`. */
  readonly path: string;
  /** process.env with PATH replaced (and pyenv/virtualenv pointers dropped). */
  readonly env: NodeJS.ProcessEnv;
  cleanup(): void;
}

export function createBarePath(extra: readonly string[] = []): BarePath {
  const dir = mkdtempSync(join(tmpdir(), 'tsp-bare-path-'));
  const node = process.execPath;
  const links: Record<string, string> = { node, npm: join(dirname(node), 'npm'), npx: join(dirname(node), 'npx') };
  for (const tool of [...kCoreTools, ...extra]) {
    const found = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => join(d, tool)).find((p) => existsSync(p));
    if (found) links[tool] = found;
  }
  for (const [name, target] of Object.entries(links)) symlinkSync(target, join(dir, name));
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: dir };
  for (const k of ['VIRTUAL_ENV', 'CONDA_PREFIX', 'PYENV_ROOT', 'PYENV_VERSION', 'PYTHONPATH']) delete env[k];
  return { dir, path: dir, env, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

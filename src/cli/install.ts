/**
 * `tslab-parallel install [--user | --sys-prefix | --prefix DIR] [--name NAME]` writes the
 * kernelspec (kernel.json and logos) where Jupyter looks for kernels, without needing Python;
 * `uninstall` removes it.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { kKernelNodeOptions } from '../protocol/kernel-node-options.js';
import { kPackageRoot } from '../util/package.js';

export const kKernelName = 'tslab-parallel';
export const kDisplayName = 'TypeScript (parallel)';

export interface InstallTarget {
  readonly user?: boolean;
  readonly sysPrefix?: boolean;
  readonly prefix?: string;
}

/** The kernels directory of a target, as jupyter_core computes it. */
export function kernelsDir(target: InstallTarget): string {
  if (target.prefix) return join(target.prefix, 'share', 'jupyter', 'kernels');
  if (target.sysPrefix) return join(sysPrefix(), 'share', 'jupyter', 'kernels');
  const data = process.env.JUPYTER_DATA_DIR ?? join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'jupyter');
  return join(data, 'kernels');
}

export function kernelSpec(displayName = kDisplayName): Record<string, unknown> {
  return {
    argv: [process.execPath, ...kKernelNodeOptions, join(kPackageRoot, 'dist', 'src', 'cli.js'), 'kernel', '-f', '{connection_file}'],
    display_name: displayName,
    language: 'typescript',
    // Interrupts arrive as interrupt_request on the control channel; the kernel also handles SIGINT.
    interrupt_mode: 'message',
    env: {},
    metadata: { debugger: false },
  };
}

export function install(target: InstallTarget, name = kKernelName, displayName = kDisplayName): string {
  const dir = join(kernelsDir(target), name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'kernel.json'), JSON.stringify(kernelSpec(displayName), null, 2) + '\n');
  const logos = join(kPackageRoot, 'kernel');
  for (const f of readdirSync(logos)) if (/^logo-/.test(f)) copyFileSync(join(logos, f), join(dir, f));
  return dir;
}

export function uninstall(target: InstallTarget, name = kKernelName): string | null {
  const dir = join(kernelsDir(target), name);
  if (!existsSync(join(dir, 'kernel.json'))) return null;
  rmSync(dir, { recursive: true, force: true });
  return dir;
}

function sysPrefix(): string {
  const env = process.env.CONDA_PREFIX ?? process.env.VIRTUAL_ENV;
  if (env) return env;
  for (const python of ['python3', 'python']) {
    try {
      return execFileSync(python, ['-c', 'import sys; print(sys.prefix)'], { encoding: 'utf8' }).trim();
    } catch {
      // try the next one
    }
  }
  throw new Error('--sys-prefix needs a Python environment (activate one, or set VIRTUAL_ENV/CONDA_PREFIX); use --user or --prefix DIR instead');
}

/**
 * A Jupyter environment of its own for a test: temp HOME, JUPYTER_PATH, JUPYTER_DATA_DIR,
 * JUPYTER_CONFIG_DIR and JUPYTER_RUNTIME_DIR, with this package's kernelspec installed under a
 * prefix on JUPYTER_PATH (by the built `install` command, as a user would). Nothing of the
 * machine's own Jupyter configuration or kernels leaks in, and nothing leaks out.
 *
 * Debian's Python (with jupyter_client, nbclient, nbconvert, jupyter_server and
 * jupyter_kernel_test) is /usr/bin/python3; the `python3` first on PATH may be another one.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const kPython = '/usr/bin/python3';
export const kJupyter = '/usr/bin/jupyter';
export const kRepoRoot = resolve(__dirname, '..', '..');
export const kCli = join(kRepoRoot, 'dist', 'src', 'cli.js');
export const kKernelName = 'tslab-parallel';
/** The same kernel, registered with interrupt_mode "signal" (Jupyter sends SIGINT to interrupt). */
export const kSignalKernelName = 'tslab-parallel-signal';

export interface JupyterEnv {
  readonly dir: string;
  /** Where `install --prefix` put the kernelspec; `prefix/share/jupyter` is on JUPYTER_PATH. */
  readonly prefix: string;
  readonly kernelsDir: string;
  /** process.env with the Jupyter variables pointing into `dir`. */
  readonly env: NodeJS.ProcessEnv;
  /** Runs a command in this environment and returns its stdout (throws on a non-zero exit). */
  exec(file: string, args: readonly string[], options?: { cwd?: string; timeoutMs?: number; input?: string }): string;
  cleanup(): void;
}

export interface JupyterEnvOptions {
  /** Install the kernelspec (default true). */
  readonly install?: boolean;
  /** Also register kSignalKernelName, a copy of the spec with interrupt_mode "signal". */
  readonly signalKernel?: boolean;
}

export function createJupyterEnv(options: JupyterEnvOptions = {}): JupyterEnv {
  const dir = mkdtempSync(join(tmpdir(), 'tslab-parallel-jupyter-'));
  const prefix = join(dir, 'prefix');
  const kernelsDir = join(prefix, 'share', 'jupyter', 'kernels');
  const sub = (name: string) => {
    const p = join(dir, name);
    mkdirSync(p, { recursive: true });
    return p;
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: sub('home'),
    JUPYTER_PATH: join(prefix, 'share', 'jupyter'),
    JUPYTER_DATA_DIR: sub('data'),
    JUPYTER_CONFIG_DIR: sub('config'),
    JUPYTER_RUNTIME_DIR: sub('runtime'),
    JUPYTER_PLATFORM_DIRS: '0',
    JUPYTER_ALLOW_INSECURE_WRITES: '1',
    IPYTHONDIR: sub('ipython'),
    // Debian's debugpy warns about frozen modules on every Python start; it is noise here.
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
    PYTHONWARNINGS: 'ignore',
    PYTHONDONTWRITEBYTECODE: '1',
  };
  delete env.VIRTUAL_ENV;
  delete env.CONDA_PREFIX;
  delete env.PYTHONPATH;

  const exec: JupyterEnv['exec'] = (file, args, o = {}) =>
    execFileSync(file, args, { cwd: o.cwd ?? dir, env, encoding: 'utf8', timeout: o.timeoutMs ?? 60_000, input: o.input, stdio: ['pipe', 'pipe', 'pipe'] });

  if (options.install !== false) {
    exec(process.execPath, [kCli, 'install', '--prefix', prefix]);
    if (options.signalKernel) {
      const spec = JSON.parse(readFileSync(join(kernelsDir, kKernelName, 'kernel.json'), 'utf8')) as Record<string, unknown>;
      const signalDir = join(kernelsDir, kSignalKernelName);
      mkdirSync(signalDir, { recursive: true });
      writeFileSync(join(signalDir, 'kernel.json'), JSON.stringify({ ...spec, interrupt_mode: 'signal', display_name: 'TypeScript (parallel, signal)' }, null, 2));
    }
  }

  return {
    dir,
    prefix,
    kernelsDir,
    env,
    exec,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Registering the kernel with Jupyter: `npx tslab-parallel install --prefix DIR` writes a
 * kernelspec that Jupyter's `jupyter kernelspec list` finds (with JUPYTER_PATH on
 * DIR/share/jupyter), `--user` writes into the Jupyter data directory, and `uninstall` removes
 * it again. Jupyter reads the spec it lists: the command line starts this package's kernel.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJupyterEnv, kCli, kJupyter, kKernelName, kRepoRoot, type JupyterEnv } from './helpers/jupyter-env.js';

let env: JupyterEnv;

beforeAll(() => {
  env = createJupyterEnv({ install: false });
});
afterAll(() => env?.cleanup());

function npx(...args: string[]) {
  const r = spawnSync('npx', ['--no-install', 'tslab-parallel', ...args], { cwd: kRepoRoot, env: env.env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface SpecList {
  kernelspecs: Record<string, { resource_dir: string; spec: Record<string, unknown> }>;
}

/** What `jupyter kernelspec list --json` lists in the test's environment. */
function kernelspecs(): SpecList['kernelspecs'] {
  const out = env.exec(kJupyter, ['kernelspec', 'list', '--json']);
  return (JSON.parse(out) as SpecList).kernelspecs;
}

describe('install --prefix DIR', () => {
  let prefix: string;
  beforeAll(() => {
    prefix = join(env.dir, 'prefix');
    env.env.JUPYTER_PATH = join(prefix, 'share', 'jupyter');
  });

  it('writes kernel.json and the logos under DIR/share/jupyter/kernels/tslab-parallel', () => {
    const r = npx('install', '--prefix', prefix);
    expect(r.code, r.stderr).toBe(0);
    const dir = join(prefix, 'share', 'jupyter', 'kernels', kKernelName);
    expect(r.stdout).toContain(`Installed the kernelspec "tslab-parallel" in ${dir}`);
    const spec = JSON.parse(readFileSync(join(dir, 'kernel.json'), 'utf8')) as Record<string, unknown>;
    expect(spec).toEqual({
      argv: [process.execPath, '--no-force-async-hooks-checks', '--max-semi-space-size=48', kCli, 'kernel', '-f', '{connection_file}'],
      display_name: 'TypeScript (parallel)',
      language: 'typescript',
      interrupt_mode: 'message',
      env: {},
      metadata: { debugger: false },
    });
    expect(readdirSync(dir).sort()).toEqual(['kernel.json', 'logo-32x32.png', 'logo-64x64.png', 'logo-svg.svg']);
  });

  it('`jupyter kernelspec list` (JUPYTER_PATH=DIR/share/jupyter) shows it, with its spec', () => {
    const text = env.exec(kJupyter, ['kernelspec', 'list']);
    expect(text).toMatch(new RegExp(`^\\s+${kKernelName}\\s+${join(prefix, 'share', 'jupyter', 'kernels', kKernelName)}$`, 'm'));
    const listed = kernelspecs()[kKernelName];
    expect(listed.spec).toMatchObject({ display_name: 'TypeScript (parallel)', language: 'typescript', interrupt_mode: 'message' });
    const argv = listed.spec.argv as string[];
    expect(existsSync(String(argv[argv.indexOf('kernel') - 1]))).toBe(true); // the CLI script, after Node's options
  });

  it('uninstall removes it; jupyter no longer lists it; a second uninstall says there is nothing', () => {
    const r = npx('uninstall', '--prefix', prefix);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Removed ${join(prefix, 'share', 'jupyter', 'kernels', kKernelName)}`);
    expect(kernelspecs()[kKernelName]).toBeUndefined();
    const again = npx('uninstall', '--prefix', prefix);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No tslab-parallel kernelspec in');
  });
});

describe('install --user', () => {
  it('writes into the Jupyter data directory, where jupyter finds it without JUPYTER_PATH', () => {
    delete env.env.JUPYTER_PATH;
    const r = spawnSync(process.execPath, [kCli, 'install', '--user'], { env: env.env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const listed = kernelspecs()[kKernelName];
    expect(listed.resource_dir).toBe(join(String(env.env.JUPYTER_DATA_DIR), 'kernels', kKernelName));
    const removed = spawnSync(process.execPath, [kCli, 'uninstall', '--user'], { env: env.env, encoding: 'utf8' });
    expect(removed.status).toBe(0);
    expect(kernelspecs()[kKernelName]).toBeUndefined();
  });
});

describe('wrong usage', () => {
  it('conflicting or unknown options fail with the valid choices', () => {
    const conflicting = spawnSync(process.execPath, [kCli, 'install', '--user', '--prefix', env.dir], { env: env.env, encoding: 'utf8' });
    expect(conflicting.status).toBe(1);
    expect(conflicting.stderr).toContain('--user, --sys-prefix and --prefix choose where to install: give one');
    const unknown = spawnSync(process.execPath, [kCli, 'install', '--usr'], { env: env.env, encoding: 'utf8' });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('unknown option --usr (valid: --user, --sys-prefix, --prefix DIR)');
  });
});

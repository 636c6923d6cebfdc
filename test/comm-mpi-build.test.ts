/**
 * The Open MPI backend is optional: without MPI, `npm run build:mpi` (scripts/build-mpi.mjs)
 * stops with a message that says what to install, before touching native/build; the package
 * still loads and its other backends work; asking for { backend: 'mpi' } names the build and
 * the doctor; and `tslab-parallel doctor` lists each missing piece with its fix.
 * "Without MPI" is a PATH that holds only node (and pkg-config looking in an empty directory).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(__dirname, '..');
const addon = path.join(repo, 'native', 'build', 'Release', 'tslab_mpi.node');

let bin: string;
let pkgBin: string;
beforeAll(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tslab-mpi-build-'));
  bin = path.join(dir, 'only-node');
  pkgBin = path.join(dir, 'node-and-pkg-config');
  fs.mkdirSync(bin);
  fs.mkdirSync(pkgBin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync(process.execPath, path.join(pkgBin, 'node'));
  const pkgConfig = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'pkg-config')).find((f) => fs.existsSync(f));
  if (pkgConfig) fs.symlinkSync(pkgConfig, path.join(pkgBin, 'pkg-config'));
});
afterAll(() => fs.rmSync(path.dirname(bin), { recursive: true, force: true }));

/** Runs node with a bare environment: PATH as given, nothing of MPI's. */
function node(args: string[], PATH: string, extra: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, args, {
    cwd: repo,
    encoding: 'utf8',
    env: { PATH, HOME: os.tmpdir(), PKG_CONFIG_LIBDIR: '/nonexistent', PKG_CONFIG_PATH: '/nonexistent', ...extra },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const mtime = (file: string) => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : undefined);

describe('build:mpi without MPI', () => {
  it.each([
    ['PATH holds only node', () => bin, 'there is no pkg-config'],
    ['pkg-config finds nothing', () => pkgBin, 'pkg-config knows neither ompi-c nor mpich'],
  ])('%s: exits 1, says what to install, leaves native/build alone', (_name, pathOf, why) => {
    const before = mtime(addon);
    const { code, out, err } = node(['scripts/build-mpi.mjs'], pathOf());
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toContain(`build:mpi: no MPI found — ${why}, and there is no mpicc on PATH.`);
    expect(err).toContain('sudo apt-get install openmpi-bin libopenmpi-dev pkg-config');
    expect(err).toContain('`npx tslab-parallel doctor` checks every piece.');
    expect(mtime(addon)).toBe(before);
  });
});

describe('the package without the addon', () => {
  const missing = '/nonexistent/tslab_mpi.node';

  it('loads, runs the threads backend, and refuses backend mpi with the fix', () => {
    const script = `
      require('./dist/src/index.js'); // the package's main module
      const { runRanks } = require('./dist/src/comm/index.js');
      (async () => {
        console.log(JSON.stringify(await runRanks({ np: 2, code: async (comm) => comm.allreduce(1), onOutput: () => {} })));
        await runRanks({ np: 2, backend: 'mpi', code: async () => 1, onOutput: () => {} }).catch((e) => console.log(e.message));
      })();`;
    const { code, out } = node(['-e', script], `${bin}${path.delimiter}${process.env.PATH}`, { TSLAB_PARALLEL_MPI_ADDON: missing });
    expect(code).toBe(0);
    const [threads, mpi] = out.trim().split('\n');
    expect(threads).toBe('[2,2]');
    expect(mpi).toBe(
      "could not start the ranks on { backend: 'mpi' }: { backend: 'mpi' } needs the Open MPI addon, which is not built " +
        `(no ${missing}); install Open MPI with its headers (Debian: sudo apt-get install openmpi-bin libopenmpi-dev pkg-config), ` +
        'then run `npm run build:mpi` in the tslab-parallel package; run `npx tslab-parallel doctor` to see what is missing; ' +
        'check the rank code or try the other backend',
    );
  });

  it('doctor lists what is missing, each with its fix, and exits 1', () => {
    const script = `require('./dist/src/cli/doctor.js').doctorCommand([]).then((c) => { process.exitCode = c; });`;
    const { code, out } = node(['-e', script], bin, { TSLAB_PARALLEL_MPI_ADDON: missing });
    expect(code).toBe(1);
    expect(out).toContain('[FAIL] MPI headers and libraries: no pkg-config and no mpicc on PATH\n       fix: sudo apt-get install libopenmpi-dev pkg-config');
    expect(out).toContain('[FAIL] launcher: mpirun is not on PATH\n       fix: sudo apt-get install openmpi-bin');
    expect(out).toContain(`[FAIL] Open MPI addon: not built (no ${missing})\n       fix: cd ${repo} && npm run build:mpi`);
    expect(out).not.toContain('two ranks under mpirun');
    expect(out).toMatch(/The 'mpi' backend is not ready: fix the items marked FAIL above, in order \(see docs\/mpi\.md\)\.\n$/);
  });
});

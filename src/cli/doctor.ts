/**
 * `tslab-parallel doctor`: checks what the Open MPI backend needs — MPI's headers and libraries,
 * a launcher, the tools node-gyp builds with, this Node's headers, the built addon — and, when
 * all is there, runs two ranks under mpirun. Each missing piece comes with how to install it.
 * It also says whether the processes backend's optional shared-memory addon is there.
 * Exit code 0 when the 'mpi' backend works, 1 when something is missing.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { loadShmAddon, shmAddonPath } from '../util/shm-addon.js';
import { kPackageRoot } from '../util/package.js';

export const kDoctorUsage = `Usage: tslab-parallel doctor [--no-run]

Checks what %%mpirun --backend mpi and tslab-parallel rank need, says how to install what is
missing, and runs a two-rank allreduce under mpirun (--no-run skips that).`;

interface Check {
  readonly what: string;
  readonly ok: boolean;
  readonly detail: string;
  /** How to fix it (shown when not ok). */
  readonly fix?: string;
  /** Only worth a warning: the backend works without it. */
  readonly optional?: boolean;
}

const kApt = 'sudo apt-get install';

function run(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 60_000, env: env ?? process.env }, (err, stdout, stderr) =>
      resolve({ ok: !err, out: `${stdout}${stderr}`.trim() }),
    );
  });
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, name);
    if (dir && fs.existsSync(file)) return file;
  }
  return undefined;
}

async function mpiDevelopment(): Promise<Check> {
  const pkgConfig = onPath('pkg-config');
  if (pkgConfig) {
    for (const pkg of ['ompi-c', 'mpich']) {
      const r = await run('pkg-config', ['--modversion', pkg]);
      if (r.ok) return { what: 'MPI headers and libraries', ok: true, detail: `pkg-config ${pkg} ${r.out}` };
    }
  }
  if (onPath('mpicc')) {
    const showme = await run('mpicc', ['-showme:version']);
    if (showme.ok) return { what: 'MPI headers and libraries', ok: true, detail: `mpicc (Open MPI): ${showme.out.split('\n')[0]}` };
    const show = await run('mpicc', ['-show']);
    if (show.ok) return { what: 'MPI headers and libraries', ok: true, detail: `mpicc -show: ${show.out.split('\n')[0]}` };
  }
  return {
    what: 'MPI headers and libraries',
    ok: false,
    detail: pkgConfig ? 'pkg-config knows neither ompi-c nor mpich, and there is no mpicc' : 'no pkg-config and no mpicc on PATH',
    fix: `${kApt} libopenmpi-dev pkg-config   (or: libmpich-dev; elsewhere put MPI's lib/pkgconfig on PKG_CONFIG_PATH)`,
  };
}

async function launcher(): Promise<Check> {
  const command = process.env.TSLAB_PARALLEL_MPIRUN || 'mpirun';
  const r = await run(command, ['--version']);
  if (!r.ok && !r.out) return { what: 'launcher', ok: false, detail: `${command} is not on PATH`, fix: `${kApt} openmpi-bin   (or set TSLAB_PARALLEL_MPIRUN)` };
  return { what: 'launcher', ok: true, detail: `${command}: ${r.out.split('\n')[0]}` };
}

function buildTools(): Check {
  const missing = [['python3'], ['make'], ['c++', 'g++', 'clang++']].filter((names) => !names.some(onPath)).map((names) => names[0]!);
  return missing.length === 0
    ? { what: 'build tools (node-gyp)', ok: true, detail: 'python3, make and a C++ compiler' }
    : { what: 'build tools (node-gyp)', ok: false, detail: `missing: ${missing.join(', ')}`, fix: `${kApt} build-essential python3` };
}

function nodeHeaders(): Check {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const header = path.join(prefix, 'include', 'node', 'node_api.h');
  if (process.env.npm_config_nodedir || fs.existsSync(header)) {
    return { what: "Node's headers", ok: true, detail: process.env.npm_config_nodedir ?? path.dirname(header) };
  }
  return {
    what: "Node's headers",
    ok: true,
    optional: true,
    detail: `not in ${path.dirname(header)}: node-gyp will download them for ${process.version} (needs the network)`,
  };
}

function addon(): Check {
  const file = process.env.TSLAB_PARALLEL_MPI_ADDON || path.join(kPackageRoot, 'native', 'build', 'Release', 'tslab_mpi.node');
  const fix = `cd ${kPackageRoot} && npm run build:mpi`;
  if (!fs.existsSync(file)) return { what: 'Open MPI addon', ok: false, detail: `not built (no ${file})`, fix };
  try {
    require(file);
  } catch (err) {
    return { what: 'Open MPI addon', ok: false, detail: `does not load: ${(err as Error).message.split('\n')[0]}`, fix: `rebuild it against the installed MPI: ${fix}` };
  }
  let against = '';
  try {
    const config = JSON.parse(fs.readFileSync(path.join(path.dirname(file), '..', 'mpi-config.json'), 'utf8')) as { implementation: string; library: string };
    against = ` (built against ${config.implementation}, ${config.library || 'library path unknown'})`;
  } catch {
    // built by hand: nothing recorded
  }
  return { what: 'Open MPI addon', ok: true, detail: `${file}${against}` };
}

/** The processes backend's optional addon: loaded, and mapping one page of an unlinked file. */
function shmAddon(): Check {
  const what = 'shared-memory addon (processes backend, large shared() arrays)';
  const fix = `cd ${kPackageRoot} && npm run build:shm`;
  const addon = loadShmAddon();
  if (typeof addon === 'string') {
    return { what, ok: false, optional: true, detail: `${addon}; %%mpirun --backend processes uses its sockets only (slower for small messages), and large shared() arrays fault their pages in one by one`, fix };
  }
  const file = path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), `tslab-parallel-doctor-${process.pid}`);
  try {
    const fd = fs.openSync(file, 'w+', 0o600);
    fs.unlinkSync(file);
    try {
      fs.ftruncateSync(fd, 4096);
      if (!(addon.map(fd, 4096) instanceof SharedArrayBuffer)) throw new Error('map() did not return a SharedArrayBuffer');
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    fs.rmSync(file, { force: true });
    return { what, ok: false, optional: true, detail: `cannot map shared memory: ${(err as Error).message}`, fix };
  }
  if (typeof addon.anonymous !== 'function') {
    return { what, ok: false, optional: true, detail: `${shmAddonPath()} is an older build, without anonymous(): large shared() arrays fault their pages in one by one`, fix };
  }
  return { what, ok: true, detail: `${shmAddonPath()} (small messages between process ranks go through shared memory; large shared() arrays come with their pages resident)` };
}

function rootPolicy(): Check | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const allowed = process.env.OMPI_ALLOW_RUN_AS_ROOT === '1' && process.env.OMPI_ALLOW_RUN_AS_ROOT_CONFIRM === '1';
  return allowed
    ? { what: 'running as root', ok: true, detail: 'OMPI_ALLOW_RUN_AS_ROOT and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM are set' }
    : {
        what: 'running as root',
        ok: false,
        detail: "Open MPI's mpirun refuses to run as root",
        fix: 'export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1   (containers and CI only)',
      };
}

/** Two ranks under a real mpirun, through the launcher the notebook uses. */
async function smokeTest(): Promise<Check> {
  const what = 'two ranks under mpirun';
  const script = [
    `const { runRanks } = require(${JSON.stringify(path.join(kPackageRoot, 'dist', 'src', 'comm', 'index.js'))});`,
    "runRanks({ np: 2, backend: 'mpi', timeout: 20, onOutput: () => {}, code: async (comm) => comm.allreduce(comm.rank + 1) })",
    '  .then((r) => { console.log(JSON.stringify(r)); }, (e) => { console.error(e.message); process.exitCode = 1; });',
  ].join('\n');
  const r = await run(process.execPath, ['-e', script]);
  if (r.ok && r.out === '[3,3]') return { what, ok: true, detail: 'allreduce gave 3 on both ranks' };
  return { what, ok: false, detail: r.out || 'no output', fix: 'read the message above; `mpirun -np 2 hostname` shows whether mpirun itself works' };
}

function print(c: Check): void {
  const mark = c.ok ? 'ok  ' : c.optional ? 'warn' : 'FAIL';
  process.stdout.write(`[${mark}] ${c.what}: ${c.detail}\n`);
  if (!c.ok && c.fix) process.stdout.write(`       fix: ${c.fix}\n`);
}

export async function doctorCommand(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(kDoctorUsage + '\n');
    return 0;
  }
  const unknown = argv.find((a) => a !== '--no-run');
  if (unknown) {
    process.stderr.write(`tslab-parallel doctor: unknown option ${unknown}\n\n${kDoctorUsage}\n`);
    return 2;
  }
  process.stdout.write(`tslab-parallel doctor (Node ${process.version}, ${process.platform}-${process.arch})\n`);
  print(shmAddon());
  process.stdout.write('The Open MPI backend:\n');
  const checks: Check[] = [await mpiDevelopment(), await launcher(), buildTools(), nodeHeaders(), addon()];
  const root = rootPolicy();
  if (root) checks.push(root);
  checks.forEach(print);
  const required = checks.filter((c) => !c.optional);
  if (required.every((c) => c.ok) && !argv.includes('--no-run')) {
    const smoke = await smokeTest();
    print(smoke);
    checks.push(smoke);
  }
  const broken = checks.filter((c) => !c.ok && !c.optional);
  process.stdout.write(
    broken.length === 0
      ? "The 'mpi' backend is ready: %%mpirun -np 4 --backend mpi, or mpirun -np 4 npx tslab-parallel rank script.ts\n"
      : `The 'mpi' backend is not ready: fix the ${broken.length === 1 ? 'item' : 'items'} marked FAIL above, in order (see docs/mpi.md).\n`,
  );
  return broken.length === 0 ? 0 : 1;
}

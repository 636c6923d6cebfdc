#!/usr/bin/env node
// npm run build:mpi — builds the Open MPI transport's addon (native/) with node-gyp against the
// system MPI. MPI is found with pkg-config (ompi-c, then mpich), else with the compiler wrapper
// (mpicc -showme for Open MPI, mpicc -show for MPICH). Without MPI it stops before touching
// native/build and says what to install; the rest of the package works without the addon.
//
//   TSLAB_PARALLEL_MPI_PKG=name   use this pkg-config package instead of searching
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');
const require = createRequire(import.meta.url);

const kInstallHint = [
  'Install an MPI with its development files, then run `npm run build:mpi` again:',
  '  Debian/Ubuntu:  sudo apt-get install openmpi-bin libopenmpi-dev pkg-config   (or mpich libmpich-dev)',
  '  Fedora/RHEL:    sudo dnf install openmpi-devel pkgconf && module load mpi/openmpi-x86_64',
  '  macOS:          brew install open-mpi pkg-config',
  'If MPI is installed somewhere pkg-config does not look, add its lib/pkgconfig directory to PKG_CONFIG_PATH,',
  'or put its mpicc on PATH. `npx tslab-parallel doctor` checks every piece.',
].join('\n');

function run(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** Splits compiler flags into the include/define flags and the link flags. */
function splitFlags(words) {
  const cflags = words.filter((w) => /^-(I|D|pthread)/.test(w));
  const libs = words.filter((w) => /^-(L|l|Wl,|pthread)/.test(w));
  return { cflags, libs };
}

/** Where MPI is, as { how, name, cflags, libs }, or undefined. */
function findMpi() {
  const wanted = process.env.TSLAB_PARALLEL_MPI_PKG;
  for (const pkg of wanted ? [wanted] : ['ompi-c', 'ompi', 'mpich']) {
    const cflags = run('pkg-config', ['--cflags', pkg]);
    const libs = run('pkg-config', ['--libs', pkg]);
    if (cflags !== undefined && libs !== undefined) {
      return { how: `pkg-config ${pkg}`, name: pkg.startsWith('ompi') ? 'Open MPI' : 'MPICH', cflags: cflags.split(/\s+/).filter(Boolean), libs: libs.split(/\s+/).filter(Boolean) };
    }
  }
  const ompiCompile = run('mpicc', ['-showme:compile']);
  const ompiLink = run('mpicc', ['-showme:link']);
  if (ompiCompile !== undefined && ompiLink !== undefined) {
    return { how: 'mpicc -showme', name: 'Open MPI', cflags: ompiCompile.split(/\s+/).filter(Boolean), libs: ompiLink.split(/\s+/).filter(Boolean) };
  }
  const mpichShow = run('mpicc', ['-show']);
  if (mpichShow !== undefined) {
    const { cflags, libs } = splitFlags(mpichShow.split(/\s+/).slice(1));
    return { how: 'mpicc -show', name: 'MPICH', cflags, libs };
  }
  return undefined;
}

/** The shared library the link flags name (for the RTLD_GLOBAL fallback), or ''. */
function libraryPath(libs) {
  const dirs = libs.filter((f) => f.startsWith('-L')).map((f) => f.slice(2));
  const names = libs.filter((f) => f.startsWith('-l')).map((f) => f.slice(2));
  const name = names.find((n) => n === 'mpi' || n === 'mpich') ?? names[0];
  if (!name) return '';
  for (const dir of [...dirs, '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib']) {
    const file = path.join(dir, `lib${name}.so`);
    if (fs.existsSync(file)) return fs.realpathSync(file);
  }
  return '';
}

/** node-gyp must build offline against this Node's own headers when they are installed. */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [`--nodedir=${process.env.npm_config_nodedir}`];
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

const mpi = findMpi();
if (!mpi) {
  const pkgConfig = run('pkg-config', ['--version']) === undefined ? 'there is no pkg-config' : 'pkg-config knows neither ompi-c nor mpich';
  console.error(`build:mpi: no MPI found — ${pkgConfig}, and there is no mpicc on PATH.\n${kInstallHint}`);
  process.exit(1);
}

// Shared libraries outside the loader's path (e.g. /opt/openmpi/lib) are found through an rpath.
const rpaths = mpi.libs.filter((f) => f.startsWith('-L')).map((f) => `-Wl,-rpath,${f.slice(2)}`);
const library = libraryPath(mpi.libs);
console.log(`build:mpi: ${mpi.name} via ${mpi.how}`);
console.log(`  cflags: ${mpi.cflags.join(' ') || '(none)'}`);
console.log(`  libs:   ${mpi.libs.join(' ')}`);

const gyp = require.resolve('node-gyp/bin/node-gyp.js');
const quote = (words) => words.map((w) => `'${w.replaceAll("'", "'\\''")}'`).join(' ');
const args = [
  gyp,
  'rebuild',
  '--directory',
  nativeDir,
  ...nodedirArgs(),
  '--',
  `-Dmpi_cflags=${quote(mpi.cflags)}`,
  `-Dmpi_libs=${quote([...mpi.libs, ...rpaths])}`,
  `-Dmpi_library=${library}`,
];
const result = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
if (result.status !== 0) {
  console.error(
    `build:mpi: node-gyp failed (exit ${result.status ?? result.signal}). It needs python3, make and a C++ compiler ` +
      `(Debian: sudo apt-get install build-essential python3) and this Node's headers (Debian: the nodejs package ships ` +
      `them in /usr/include/node; elsewhere node-gyp downloads them). \`npx tslab-parallel doctor\` checks every piece.`,
  );
  process.exit(1);
}
const info = { implementation: mpi.name, found: mpi.how, cflags: mpi.cflags, libs: mpi.libs, library, mpirun: run('mpirun', ['--version'])?.split('\n')[0] ?? '' };
fs.writeFileSync(path.join(nativeDir, 'build', 'mpi-config.json'), JSON.stringify(info, null, 2) + '\n');
console.log(`build:mpi: built native/build/Release/tslab_mpi.node against ${library || mpi.name}`);

#!/usr/bin/env node
// npm run build:shm — builds the processes transport's shared-memory addon (native/shm) with
// node-gyp. Optional: without it (no compiler, no Node headers) process ranks talk over their
// sockets only, as they always could; `npx tslab-parallel doctor` says whether it is there.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'native', 'shm');
const require = createRequire(import.meta.url);

/** node-gyp must build offline against this Node's own headers when they are installed. */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [`--nodedir=${process.env.npm_config_nodedir}`];
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node.h')) ? [`--nodedir=${prefix}`] : [];
}

/** The first of `names` on PATH, or undefined. */
function onPath(...names) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const name of names) if (dir && fs.existsSync(path.join(dir, name))) return name;
  }
  return undefined;
}

// node-gyp's rebuild removes native/shm/build before it finds out that a tool is missing: look first.
const missing = [
  onPath('python3', 'python') ? undefined : 'python3',
  onPath('make') ? undefined : 'make',
  process.env.CXX || onPath('c++', 'g++', 'clang++') ? undefined : 'a C++ compiler',
].filter(Boolean);
if (missing.length > 0) {
  console.error(
    `build:shm: cannot build the shared-memory addon: missing on PATH: ${missing.join(', ')} ` +
      `(Debian: sudo apt-get install build-essential python3). Without it, %%mpirun --backend processes ` +
      `talks over sockets only (slower for small messages); \`npx tslab-parallel doctor\` says whether it is there.`,
  );
  process.exit(1);
}

const gyp = require.resolve('node-gyp/bin/node-gyp.js');
const result = spawnSync(process.execPath, [gyp, 'rebuild', '--directory', dir, ...nodedirArgs()], { stdio: 'inherit', cwd: root });
if (result.status !== 0) {
  console.error(
    `build:shm: node-gyp failed (exit ${result.status ?? result.signal}). It needs python3, make and a C++ compiler ` +
      `(Debian: sudo apt-get install build-essential python3) and this Node's headers (Debian: the nodejs package ships ` +
      `them in /usr/include/node; elsewhere node-gyp downloads them). Without the addon, %%mpirun --backend processes ` +
      `talks over sockets only (slower for small messages).`,
  );
  process.exit(1);
}
console.log('build:shm: built native/shm/build/Release/tslab_shm.node');

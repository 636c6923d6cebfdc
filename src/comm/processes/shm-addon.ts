/**
 * The optional shm addon (native/shm, `npm run build:shm`): maps a file descriptor as a
 * SharedArrayBuffer, which lets process ranks share rings (rings.ts). Without it, or with
 * TSLAB_PARALLEL_SHM=0, process ranks talk over their sockets only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { kPackageRoot } from '../../util/package.js';
import { kSharedFd, type SharedWorld } from './shared-layout.js';
import type { SharedMemory } from './transport.js';

export interface ShmAddon {
  /** A SharedArrayBuffer over mmap(fd, bytes, MAP_SHARED); unmapped when it is collected. */
  map(fd: number, bytes: number): SharedArrayBuffer;
}

/** Where the addon is: TSLAB_PARALLEL_SHM_ADDON overrides (tests, custom builds). */
export function shmAddonPath(): string {
  return process.env.TSLAB_PARALLEL_SHM_ADDON || path.join(kPackageRoot, 'native', 'shm', 'build', 'Release', 'tslab_shm.node');
}

let loaded: ShmAddon | string | undefined;

/** The addon, or why there is none (a sentence). */
export function loadShmAddon(): ShmAddon | string {
  if (loaded !== undefined) return loaded;
  const file = shmAddonPath();
  if (process.env.TSLAB_PARALLEL_SHM === '0') loaded = 'turned off (TSLAB_PARALLEL_SHM=0)';
  else if (!fs.existsSync(file)) loaded = `not built (no ${file})`;
  else {
    try {
      loaded = require(file) as ShmAddon;
    } catch (err) {
      loaded = `does not load: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`;
    }
  }
  return loaded;
}

/** Whether ranks can be given shared memory: the addon is built and not turned off (the host does not load it). */
export function shmAddonBuilt(): boolean {
  return process.env.TSLAB_PARALLEL_SHM !== '0' && fs.existsSync(shmAddonPath());
}

/**
 * Rank side: maps the shared file the host passed on kSharedFd, then closes that descriptor
 * (the mapping keeps the memory; programs the rank starts do not inherit it). Undefined when
 * the addon cannot map it: the rank then says so in its HELLOs and uses its sockets only.
 */
export function mapSharedWorld(world: SharedWorld): SharedMemory | undefined {
  const addon = loadShmAddon();
  let buffer: SharedArrayBuffer | undefined;
  try {
    if (typeof addon !== 'string') buffer = addon.map(kSharedFd, world.bytes);
  } catch {} // no memory to share: sockets only
  try {
    fs.closeSync(kSharedFd);
  } catch {}
  return buffer && { world, buffer };
}

/**
 * The optional shm addon (native/shm, `npm run build:shm`): SharedArrayBuffers over memory it
 * maps itself. Process ranks share rings through a mapped file (comm/processes/rings.ts), and
 * shared() takes large arrays from it with their pages already resident (parallel/shared.ts).
 * Without it, or with TSLAB_PARALLEL_SHM=0, process ranks talk over their sockets only and
 * shared() uses plain SharedArrayBuffers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { kPackageRoot } from './package.js';

export interface ShmAddon {
  /** A SharedArrayBuffer over mmap(fd, bytes, MAP_SHARED); unmapped when it is collected. */
  map(fd: number, bytes: number): SharedArrayBuffer;
  /**
   * A SharedArrayBuffer over zeroed anonymous memory, every page resident (MAP_POPULATE);
   * unmapped when it is collected. Absent from builds older than 2026-12-04.
   */
  anonymous?(bytes: number): SharedArrayBuffer;
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

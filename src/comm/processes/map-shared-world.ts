/**
 * Rank side of the shm addon (src/util/shm-addon.ts): the shared file the host passed, mapped.
 */
import * as fs from 'node:fs';
import { loadShmAddon } from '../../util/shm-addon.js';
import { kSharedFd, type SharedWorld } from './shared-layout.js';
import type { SharedMemory } from './transport.js';

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

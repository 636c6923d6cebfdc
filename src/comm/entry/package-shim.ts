/**
 * What `tslab-parallel` is inside a rank: the package's main module (display, pool, ...) with
 * the comm API (comm, Status, SUM, ...) on top. Getters such as `comm` stay getters.
 */
import * as comm from '../index.js';
import { packageRoot } from './package-alias.js';

function loadMain(): object {
  try {
    return require(packageRoot) as object;
  } catch {
    return {}; // the package's main module is not built: the comm API alone
  }
}

// The main module re-exports the comm API too; a name the main module already has is kept
// (its properties are not configurable, so defining it again would throw).
const merged: Record<string, unknown> = {};
for (const source of [loadMain(), comm]) {
  for (const [key, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(source))) {
    if (!(key in merged)) Object.defineProperty(merged, key, descriptor);
  }
}
module.exports = merged;

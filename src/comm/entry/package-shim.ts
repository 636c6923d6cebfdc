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

const merged: Record<string, unknown> = {};
for (const source of [loadMain(), comm]) Object.defineProperties(merged, Object.getOwnPropertyDescriptors(source));
module.exports = merged;

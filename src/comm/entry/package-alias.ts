/**
 * Makes `require('tslab-parallel')` (and `import ... from 'tslab-parallel'` in a compiled
 * script) resolve to the copy of this package that runs the rank, wherever the script lives,
 * so that the script's `comm` is the rank's own world communicator. The bare name resolves to
 * package-shim.js: the package's main module with this directory's comm API laid over it.
 */
import Module from 'node:module';
import * as path from 'node:path';

const kName = 'tslab-parallel';
/** dist/src/comm/entry → the package root. */
const kRoot = path.resolve(__dirname, '..', '..', '..', '..');
const kShim = path.join(__dirname, 'package-shim.js');

type Resolve = (request: string, parent: unknown, isMain: boolean, options?: unknown) => string;

let installed = false;

export function installPackageAlias(): void {
  if (installed) return;
  installed = true;
  const M = Module as unknown as { _resolveFilename: Resolve };
  const original = M._resolveFilename;
  M._resolveFilename = function (request, parent, isMain, options) {
    if (request === kName) return kShim;
    if (request.startsWith(kName + '/')) return original.call(this, kRoot + request.slice(kName.length), parent, isMain, options);
    return original.call(this, request, parent, isMain, options);
  };
}

/** The package root's main module, for the shim. */
export const packageRoot = kRoot;

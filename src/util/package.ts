/** Where this package is installed, and what it is called. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package root: the directory of package.json (this file is dist/src/util/package.js). */
export const kPackageRoot = join(__dirname, '..', '..', '..');

/** The module cells and workers get for `require('tslab-parallel')`. */
export const kPackageIndex = join(kPackageRoot, 'dist', 'src', 'index.js');

let version: string | undefined;
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(join(kPackageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}

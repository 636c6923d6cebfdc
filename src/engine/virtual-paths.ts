/**
 * What tslab's type checker sees of the file system, adjusted through its `ts.sys`:
 *
 * - `import … from 'tslab-parallel'` type-checks from any notebook directory: a path into
 *   `…/node_modules/tslab-parallel/` that does not exist is served from this package.
 * - Node's types are those of the Node that runs the kernel: tslab falls back to its own
 *   @types/node (Node 18) when the notebook's directory has none; that fallback is served
 *   from this package's @types/node instead — only @types/node, as tslab's folder holds: every
 *   package in a types folder is part of every cell's program, so each would slow every cell.
 * - TypeScript 5.0's ES2022 library lacks ES2023 methods that Node 20 has (toSorted, with, …):
 *   the library file gains a reference to ES2023 and to types/es2023-node20.d.ts.
 */
import { dirname, join, sep } from 'node:path';

/** The subset of typescript's `System` that is redirected. */
interface Sys {
  fileExists(path: string): boolean;
  readFile(path: string, encoding?: string): string | undefined;
  directoryExists?(path: string): boolean;
  getDirectories?(path: string): string[];
  realpath?(path: string): string;
  readDirectory?(path: string, ...rest: unknown[]): string[];
}

export interface VirtualPathOptions {
  /** Root of this package (holds package.json, dist/, types/). */
  readonly packageRoot: string;
  /** tslab's fallback types directory, e.g. …/node_modules/tslab/node_modules/@types. */
  readonly tslabTypesDir: string;
  /** The @types directory holding the @types/node this package depends on. */
  readonly typesDir: string;
  /** TypeScript's lib directory of the checker. */
  readonly libDir: string;
}

const kSelf = `${sep}node_modules${sep}tslab-parallel`;

export function installVirtualPaths(sys: Sys, o: VirtualPathOptions): void {
  const real = {
    fileExists: sys.fileExists.bind(sys),
    readFile: sys.readFile.bind(sys),
    directoryExists: sys.directoryExists?.bind(sys),
    getDirectories: sys.getDirectories?.bind(sys),
    realpath: sys.realpath?.bind(sys),
    readDirectory: sys.readDirectory?.bind(sys),
  };
  const exists = (p: string) => real.fileExists(p) || !!real.directoryExists?.(p);

  const tslabNode = join(o.tslabTypesDir, 'node');
  const map = (p: string): string => {
    if (p === tslabNode || p.startsWith(tslabNode + sep)) return join(o.typesDir, 'node') + p.slice(tslabNode.length);
    const at = p.lastIndexOf(kSelf);
    if (at >= 0) {
      const rest = p.slice(at + kSelf.length);
      if ((rest === '' || rest.startsWith(sep)) && !exists(p)) return o.packageRoot + rest;
    }
    return p;
  };

  const es2022 = join(o.libDir, 'lib.es2022.d.ts');
  const additions = join(o.packageRoot, 'types', 'es2023-node20.d.ts');

  sys.fileExists = (p) => real.fileExists(map(p));
  sys.readFile = (p, enc) => {
    const text = real.readFile(map(p), enc);
    if (p === es2022 && text !== undefined) {
      // Reference directives must come before any statement; the lib file has only comments and directives there.
      return `/// <reference lib="es2023" />\n/// <reference path="${additions}" />\n${text}`;
    }
    return text;
  };
  if (real.directoryExists) sys.directoryExists = (p) => real.directoryExists!(map(p));
  if (real.getDirectories) sys.getDirectories = (p) => (p === o.tslabTypesDir ? ['node'] : real.getDirectories!(map(p)));
  if (real.realpath) sys.realpath = (p) => (map(p) === p ? real.realpath!(p) : p);
  if (real.readDirectory) sys.readDirectory = (p, ...rest) => real.readDirectory!(map(p), ...rest);
}

/** The @types directory that holds `@types/node` as this package resolves it. */
export function typesDirOf(resolve: (id: string) => string): string {
  return dirname(dirname(resolve('@types/node/package.json')));
}

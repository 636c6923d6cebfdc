/**
 * The names every notebook starts with, without an import: they are bound by a first, hidden
 * cell that imports them from this package, so they behave exactly like names of an earlier
 * cell (a cell may redefine them; shipping sends them to workers as imports).
 */
import { kPackageIndex } from '../util/package.js';

const kPreludeNames = [
  'display', 'sleep',
  // %pool and partial (src/pool)
  'partial', 'workerId',
  // %%parallel (src/parallel)
  'prange', 'shared', 'numThreads', 'threadId', 'setNumThreads',
  // message passing (src/comm)
  'wtime',
] as const;

/** The prelude cell: imports the prelude names this build of the package exports. */
export function preludeSource(): string {
  const exported = require(kPackageIndex) as Record<string, unknown>;
  const names = kPreludeNames.filter((n) => n in exported);
  return `import { ${names.join(', ')} } from "tslab-parallel";\n`;
}

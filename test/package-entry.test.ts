/**
 * What `import … from 'tslab-parallel'` costs: every pool worker and rank imports the package,
 * so its entry must not load the TypeScript compiler (the %%parallel compiler, shipping and the
 * scope analysis load it on first use).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('the package entry', () => {
  it('loads without loading typescript, and still offers the compiler', () => {
    const index = resolve(__dirname, '..', 'dist', 'src', 'index.js');
    const out = execFileSync(process.execPath, ['-e', `
      const pkg = require(${JSON.stringify(index)});
      const loaded = () => Object.keys(require.cache).some((k) => /node_modules[\\\\/]typescript[\\\\/]/.test(k));
      const before = loaded();
      const compiled = pkg.compileParallelCell('for (const i of prange(4)) {}').hasErrors;
      console.log(JSON.stringify({ before, after: loaded(), compiled, pool: typeof pkg.Pool, comm: typeof pkg.Communicator }));
    `], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ before: false, after: true, compiled: false, pool: 'function', comm: 'function' });
  });
});

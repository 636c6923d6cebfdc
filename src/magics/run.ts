/**
 * %run FILE [ARGS...]: runs a TypeScript or JavaScript file in the notebook, as IPython's
 * `%run -i` runs a script: `process.argv` is [node, FILE, ...ARGS] while it runs, its top-level
 * names are then defined in the notebook, and its errors quote the file's own lines.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { tokenize } from './args.js';
import { expandCommand } from './interpolate.js';
import { resolveUserPath } from './paths.js';
import { UsageError, type MagicContext, type MagicSpec } from './types.js';

const kExtensions = ['.ts', '.js', '.mts', '.cts', '.mjs', '.cjs'];

export const runLine: MagicSpec = {
  name: 'run',
  kind: 'line',
  description:
    'Run a .ts or .js file in the notebook, with process.argv set to [node, FILE, ...ARGS]. Its top-level names are defined in the notebook afterwards, and errors quote the file\'s lines. The file sees the notebook\'s names (as IPython\'s %run -i); relative imports resolve from the notebook folder. FILE without an extension finds FILE.ts or FILE.js. {expr} and $name in the line are expanded as in !cmd.',
  examples: ['%run scripts/simulate.ts 1000 --seed 7', '%run helpers'],
  args: [{ kind: 'rest', name: 'file', metavar: 'FILE [ARGS...]', help: 'the file to run and its arguments, e.g. %run script.ts 10' }],
  handler: async (ctx) => {
    const [first, ...rest] = tokenize(await expandCommand(String(ctx.args.file), ctx));
    const shown = first?.text ?? '';
    const path = findScript(ctx.cwd, shown);
    const source = readFileSync(path, 'utf8');
    const argv = process.argv;
    process.argv = [process.execPath, path, ...rest.map((t) => t.text)];
    try {
      await runScript(ctx, source, shown, /\.[cm]?js$/.test(path));
    } finally {
      process.argv = argv;
    }
    return undefined;
  },
};

function findScript(cwd: string, shown: string): string {
  const path = resolveUserPath(cwd, shown);
  const candidates = extname(path) ? [path] : [path, `${path}.ts`, `${path}.js`];
  const found = candidates.find((p) => existsSync(p) && statSync(p).isFile());
  if (found === undefined) {
    if (existsSync(path)) throw new UsageError(`%run: ${shown} is a folder; give the script in it, e.g. %run ${shown.replace(/\/$/, '')}/main.ts`);
    throw new UsageError(`%run: file not found: ${shown} (in ${cwd}); check the name, or write it first with %%writefile ${extname(shown) ? shown : `${shown}.ts`}`);
  }
  if (!kExtensions.includes(extname(found))) {
    const hint = extname(found) === '.py' ? `; run Python with !python3 ${shown}` : '; run other programs with !command';
    throw new UsageError(`%run: ${shown} is not a TypeScript or JavaScript file (${kExtensions.join(', ')})${hint}`);
  }
  return found;
}

/** JavaScript is run without type checking, as `node FILE` would run it. */
async function runScript(ctx: MagicContext, source: string, label: string, javascript: boolean): Promise<void> {
  await ctx.execute(asCell(source), { label, text: source, javascript });
}

/**
 * A script as a cell. A module's `export const x` is a cell's `const x` (cells cannot export; the name is what the
 * notebook wants). `export { a, b };` lists names already declared: dropped. Lines stay in place.
 */
export function asCell(source: string): string {
  return source
    .replace(/^#!.*/, '') // a shebang is only valid on a file's first line, and cells are not files
    .replace(/^export\s+(?=(?:declare\s+|abstract\s+|async\s+)*(?:const|let|var|function|class|enum|interface|type|namespace)\b)/gm, '')
    .replace(/^export\s*\{[^}\n]*\}\s*;?[ \t]*$/gm, '');
}

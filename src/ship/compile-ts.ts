/**
 * Compiles a TypeScript module (and the relative TypeScript modules it imports) to CommonJS
 * JavaScript that a worker thread, child process or rank can require(). The output goes to a
 * cache directory named by content, with relative requires rewritten to absolute paths, and an
 * inline source map so that stack traces can point at the .ts lines (workers enable source
 * maps when a shipment needs them).
 *
 * The kernel's engine compiles notebook cells; this is only for .ts files that cells import.
 */
import { transpileToCommonJs } from '../util/transpile.js';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { typescript } from './free-names.js';

const kTsExtensions = ['.ts', '.tsx', '.mts', '.cts'];
const kResolveSuffixes = ['', '.ts', '.tsx', '.mts', '.cts', '.js', '.cjs', '.json', '/index.ts', '/index.tsx', '/index.js'];

/** Where compiled modules are written; one directory per user, shared by all kernels. */
export function compiledModuleDirectory(): string {
  return path.join(os.tmpdir(), `tslab-parallel-${os.userInfo().uid}`, 'modules');
}

/** Resolves a relative or absolute module path to a file, trying TypeScript extensions too. */
export function resolveModuleFile(absolute: string): string | undefined {
  for (const suffix of kResolveSuffixes) {
    const candidate = absolute + suffix;
    try {
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

export function isTypeScriptFile(file: string): boolean {
  return kTsExtensions.includes(path.extname(file)) && !file.endsWith('.d.ts');
}

/**
 * Returns the path of a JavaScript version of the TypeScript module `file` (absolute), compiling
 * it and its relative TypeScript imports when their content changed.
 */
export function compileTypeScriptModule(file: string): string {
  return compile(path.resolve(file), new Map());
}

function compile(file: string, done: Map<string, string>): string {
  const known = done.get(file);
  if (known) return known;
  const source = fs.readFileSync(file, 'utf8');
  const outFile = path.join(compiledModuleDirectory(), `${hash(file).slice(0, 12)}-${path.basename(file).replace(/\.[cm]?tsx?$/, '')}.js`);
  done.set(file, outFile); // before recursing: import cycles resolve to the same output
  const out = transpileToCommonJs(source, file);
  const code = rewriteRelativeRequires(out, path.dirname(file), done);
  writeIfChanged(outFile, code);
  return outFile;
}

/** `require("./x")` → `require("/abs/compiled/x.js")` (or the absolute original for JS files). */
function rewriteRelativeRequires(js: string, dir: string, done: Map<string, string>): string {
  const ts = typescript();
  const file = ts.createSourceFile('out.js', js, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const edits: { start: number; end: number; text: string }[] = [];
  const visit = (node: import('typescript').Node): void => {
    if (
      ts.isCallExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'require' &&
      node.arguments.length === 1
    ) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteral(arg) && /^\.\.?(\/|$)/.test(arg.text)) {
        const target = resolveModuleFile(path.resolve(dir, arg.text));
        if (target) {
          const resolved = isTypeScriptFile(target) ? compile(target, done) : target;
          edits.push({ start: arg.getStart(file), end: arg.getEnd(), text: JSON.stringify(resolved) });
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  let out = js;
  for (const edit of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}

function writeIfChanged(file: string, content: string): void {
  try {
    if (fs.readFileSync(file, 'utf8') === content) return;
  } catch {
    // not there yet
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Write then rename, so a worker never requires a half-written file.
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

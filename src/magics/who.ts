/**
 * %who, %who_ls and %whos: the notebook's own names (not the prelude's, not `_names`), sorted,
 * as IPython lists its interactive namespace. Optional type names filter them (`%who function`).
 */
import { summarise, typeName } from './describe-value.js';
import type { MagicContext, MagicSpec, NotebookVariable } from './types.js';

const kEmpty = 'Interactive namespace is empty.';

const typesArg = {
  kind: 'rest',
  name: 'types',
  metavar: 'TYPE...',
  optional: true,
  help: 'only names of these types, as %whos shows them (number, string, function, class, Float64Array, ...).',
} as const;

function userVariables(ctx: MagicContext): NotebookVariable[] {
  const wanted = String(ctx.args.types ?? '').split(/\s+/).filter(Boolean);
  return ctx
    .variables()
    .filter((v) => !v.hidden && (wanted.length === 0 || wanted.includes(typeName(v.value))))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export const whoLine: MagicSpec = {
  name: 'who',
  kind: 'line',
  description: 'List the names the notebook defined (cells, %run scripts, magics), sorted. Type names filter the list: %who function number.',
  examples: ['%who', '%who Float64Array'],
  args: [typesArg],
  handler: (ctx) => {
    const names = userVariables(ctx).map((v) => v.name);
    ctx.stdout(names.length ? `${names.join('\t')}\n` : `${kEmpty}\n`);
    return undefined;
  },
};

export const whoLsLine: MagicSpec = {
  name: 'who_ls',
  kind: 'line',
  description: 'Return the sorted names %who lists, as a string array (names = %who_ls).',
  examples: ['const names = %who_ls function'],
  args: [typesArg],
  resultType: 'string[]',
  handler: (ctx) => userVariables(ctx).map((v) => v.name),
};

export const whosLine: MagicSpec = {
  name: 'whos',
  kind: 'line',
  description: 'Like %who, as a table: each name with its type and a short summary (a number\'s value, an array\'s length, a typed array\'s size in bytes, a function\'s signature).',
  examples: ['%whos', '%whos Float64Array'],
  args: [typesArg],
  handler: async (ctx) => {
    const vars = userVariables(ctx);
    if (vars.length === 0) {
      ctx.stdout(`${kEmpty}\n`);
      return undefined;
    }
    const rows: string[][] = [];
    for (const v of vars) rows.push([v.name, typeName(v.value), await info(ctx, v)]);
    const header = ['Variable', 'Type', 'Data/Info'];
    const widths = [0, 1].map((c) => Math.max(header[c].length, ...rows.map((r) => r[c].length)) + 3);
    const line = (r: string[]) => `${r[0].padEnd(widths[0])}${r[1].padEnd(widths[1])}${r[2]}`.trimEnd();
    const table = [line(header), '-'.repeat(widths[0] + widths[1] + header[2].length + 6), ...rows.map(line)];
    ctx.stdout(`${table.join('\n')}\n`);
    return undefined;
  },
};

/** A function's signature from the type checker (`f(x: number): number`), else the value's summary. */
async function info(ctx: MagicContext, v: NotebookVariable): Promise<string> {
  if (typeof v.value === 'function') {
    const quick = await ctx.describe(v.name).catch(() => undefined);
    const signature = quick?.split('\n')[0].replace(/^(function|class|const|let|var) /, '');
    if (signature) return shorten(signature);
  }
  return summarise(v.value);
}

function shorten(text: string, width = 70): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}


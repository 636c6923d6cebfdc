/**
 * %%writefile [-a] FILE: writes the cell body to a file, as IPython does, and says which of
 * "Writing", "Overwriting" or "Appending to" it did. Missing parent folders are created.
 */
import { appendFileSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { expandCommand } from './interpolate.js';
import { resolveUserPath, unquote } from './paths.js';
import { UsageError, type MagicSpec } from './types.js';

export const writefileCell: MagicSpec = {
  name: 'writefile',
  kind: 'cell',
  body: 'optional', // an empty body writes an empty file, as in IPython
  description:
    'Write the cell body to FILE (relative to the notebook folder), creating missing folders; -a appends instead. Prints what it did: Writing, Overwriting or Appending to FILE. ' +
    'FILE may use {expr} and $name as in !cmd; the body is written as it is.',
  examples: ['%%writefile {work}/job.mjs\nconsole.log(process.argv[2]);', '%%writefile scripts/hello.ts\nconsole.log(`hello from ${process.argv[2]}`);', '%%writefile -a log.txt\none more line'],
  args: [
    { kind: 'flag', name: 'append', aliases: ['a'], help: 'Append to FILE (created if missing) instead of replacing it.' },
    { kind: 'rest', name: 'file', metavar: 'FILE', help: 'the file to write, e.g. %%writefile script.ts' },
  ],
  handler: async (ctx) => {
    // As IPython, the file name may use notebook values: %%writefile {work}/run.ts (the body is written as it is).
    const shown = unquote((await expandCommand(String(ctx.args.file), ctx)).trim());
    const path = resolveUserPath(ctx.cwd, shown);
    const exists = existsSync(path);
    if (exists && statSync(path).isDirectory()) throw new UsageError(`%%writefile: ${shown} is a folder; give a file name, e.g. %%writefile ${shown.replace(/\/$/, '')}/script.ts`);
    // A cell's text has no final newline; a file written from it should end with one (IPython's does).
    const text = ctx.body === '' || ctx.body.endsWith('\n') ? ctx.body : `${ctx.body}\n`;
    try {
      mkdirSync(dirname(path), { recursive: true });
      if (ctx.args.append) appendFileSync(path, text);
      else writeFileSync(path, text);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'ENOTDIR' ? 'a part of the path is a file, not a folder' : e.message;
      throw new UsageError(`%%writefile: cannot write ${shown}: ${why}; choose a path you can write to`);
    }
    ctx.stdout(`${!exists ? 'Writing' : ctx.args.append ? 'Appending to' : 'Overwriting'} ${shown}\n`);
    return undefined;
  },
};

/** File arguments of magics (%%writefile, %run): quotes and `~` as a shell would read them, relative to the notebook. */
import { homedir } from 'node:os';
import { resolve } from 'node:path';

/** `"my file.ts"` or `'my file.ts'` → `my file.ts` (IPython strips one pair of quotes too). */
export function unquote(text: string): string {
  return /^(['"]).*\1$/.test(text) && text.length >= 2 ? text.slice(1, -1) : text;
}

export function resolveUserPath(cwd: string, path: string): string {
  const expanded = path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
  return resolve(cwd, expanded);
}

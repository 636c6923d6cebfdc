/**
 * `{expr}` and `$name` in shell commands, as IPython expands `!cmd` lines: `{expr}` is a
 * TypeScript expression evaluated in the notebook, `$name` (or `$name.field`) a notebook name;
 * `{{`, `}}` and `$$name` stand for `{`, `}` and `$name`. What cannot be expanded is left as it
 * is, for the shell to read: `$HOME`, `${HOME}`, `{}` of xargs, `{1..3}`. Unlike IPython, one
 * unknown name does not stop the others from expanding, `$name` and `${expr}` inside single
 * quotes are left for the shell (as bash leaves them), and `${expr}` is replaced whole, as in a
 * template literal (IPython would keep the `$`).
 */
import type { MagicContext } from './types.js';

type Scope = Pick<MagicContext, 'evaluate' | 'variables'>;

export async function expandCommand(text: string, scope: Scope): Promise<string> {
  if (!/[{}$]/.test(text)) return text;
  let out = '';
  let quote: "'" | '"' | null = null;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if ((c === '{' || c === '}') && text[i + 1] === c) {
      out += c;
      i += 2;
    } else if (c === '{') {
      const end = closingBrace(text, i);
      const expr = end < 0 ? '' : text.slice(i + 1, end);
      if (end < 0 || expr.trim() === '') {
        out += c;
        i++;
        continue;
      }
      const value = await tryEvaluate(scope, expr);
      out += value === undefined ? text.slice(i, end + 1) : value;
      i = end + 1;
    } else if (c === '$' && text[i + 1] === '{') {
      // `${expr}`, a template literal's habit: the value when expr is the notebook's, else the shell's `${VAR}`.
      const end = closingBrace(text, i + 1);
      if (end < 0) {
        out += c;
        i++;
        continue;
      }
      const value = quote === "'" ? undefined : await tryEvaluate(scope, text.slice(i + 2, end));
      out += value ?? text.slice(i, end + 1);
      i = end + 1;
    } else if (c === '$' && quote !== "'") {
      const m = /^\$(\$?)([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)/.exec(text.slice(i));
      if (!m) {
        out += c;
        i++;
      } else if (m[1]) {
        out += m[0].slice(1); // $$name → $name
        i += m[0].length;
      } else {
        const value = lookup(scope, m[2]);
        out += value === undefined ? m[0] : value;
        i += m[0].length;
      }
    } else {
      if (c === "'" && quote !== '"') quote = quote === "'" ? null : "'";
      else if (c === '"' && quote !== "'") quote = quote === '"' ? null : '"';
      out += c;
      i++;
    }
  }
  return out;
}

/** The `}` that closes the `{` at `open`, counting nested braces; -1 when none does. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === '{') depth++;
    else if (text[j] === '}' && --depth === 0) return j;
  }
  return -1;
}

async function tryEvaluate(scope: Scope, expr: string): Promise<string | undefined> {
  try {
    return String(await scope.evaluate(expr));
  } catch {
    return undefined; // not an expression of the notebook: the shell's own braces
  }
}

function lookup(scope: Scope, path: string): string | undefined {
  const [name, ...fields] = path.split('.');
  const variable = scope.variables().find((v) => v.name === name);
  if (!variable) return undefined;
  let value: unknown = variable.value;
  for (const f of fields) {
    if (value === null || value === undefined || !(f in Object(value))) return undefined;
    value = (value as Record<string, unknown>)[f];
  }
  return String(value);
}

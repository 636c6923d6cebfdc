/**
 * The table of magics, kind then name (as IPython's `dict(line={}, cell={})`). Lookups of
 * unknown names fail with the valid choices and a did-you-mean, and point out a magic of the
 * other kind ("%%pool" → "did you mean the line magic %pool?").
 */
import { magicLabel, optionUsage, usage } from './args.js';
import { closest } from './suggest.js';
import { UsageError, type MagicKind, type MagicSpec } from './types.js';

export class MagicRegistry {
  readonly #table: Record<MagicKind, Map<string, MagicSpec>> = { line: new Map(), cell: new Map() };

  add(...specs: readonly MagicSpec[]): this {
    for (const spec of specs) {
      if (!/^[A-Za-z_][\w-]*$/.test(spec.name)) throw new Error(`invalid magic name '${spec.name}'`);
      if (this.#table[spec.kind].has(spec.name)) throw new Error(`${magicLabel(spec)} is registered twice`);
      this.#table[spec.kind].set(spec.name, spec);
    }
    return this;
  }

  has(kind: MagicKind, name: string): boolean {
    return this.#table[kind].has(name);
  }

  /** The spec of `%name` / `%%name`, or a UsageError that says what exists instead. */
  get(kind: MagicKind, name: string): MagicSpec {
    const spec = this.#table[kind].get(name);
    if (spec) return spec;
    const other: MagicKind = kind === 'line' ? 'cell' : 'line';
    const label = magicLabel({ kind, name });
    if (this.#table[other].has(name)) {
      const what = other === 'line' ? 'line magic' : 'cell magic';
      throw new UsageError(`${label} is not a ${kind} magic; did you mean the ${what} ${magicLabel({ kind: other, name })}?`);
    }
    const names = [...this.#table[kind].keys()].sort();
    const hint = closest(name, names);
    throw new UsageError(
      `${label} is not a ${kind} magic${hint ? `; did you mean ${magicLabel({ kind, name: hint })}?` : ''} (available: ${names.map((n) => magicLabel({ kind, name: n })).join(', ')}; %lsmagic lists them)`,
    );
  }

  list(kind: MagicKind): MagicSpec[] {
    return [...this.#table[kind].values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** `%name?`: usage, description, options and examples, from the spec alone. */
  help(kind: MagicKind, name: string): string {
    const specs = [this.#table[kind].get(name), this.#table[kind === 'line' ? 'cell' : 'line'].get(name)].filter((s): s is MagicSpec => !!s);
    if (specs.length === 0) this.get(kind, name); // throws the did-you-mean error
    return specs.map(helpText).join('\n\n');
  }

  /** `%lsmagic`: every magic with its one-line description. */
  summary(): string {
    const section = (kind: MagicKind, title: string) => {
      const specs = this.list(kind);
      const width = Math.max(...specs.map((s) => magicLabel(s).length));
      return [title, ...specs.map((s) => `  ${magicLabel(s).padEnd(width)}  ${firstSentence(s.description)}`)].join('\n');
    };
    return [
      section('line', 'Line magics (%name args, a whole line):'),
      section('cell', 'Cell magics (%%name args, the first line of a cell):'),
      'Shell: !command runs a shell command; x = !command and !!command capture its output lines; {expr} and $name insert notebook values. Help: %name? or %%name? shows a magic\'s options.',
    ].join('\n\n');
  }
}

export function firstSentence(text: string): string {
  const m = /^[\s\S]*?[.!?](\s|$)/.exec(text);
  return (m ? m[0] : text).trim();
}

function helpText(spec: MagicSpec): string {
  const lines = [`Usage: ${usage(spec)}`, '', spec.description.trim()];
  const documented = spec.args.filter((a) => a.kind !== 'rest' || a.help);
  if (documented.length) {
    lines.push('', 'Arguments:');
    const width = Math.max(...documented.map((a) => spellings(a).length));
    for (const a of documented) {
      const dflt = a.kind === 'option' && a.default !== undefined ? ` (default: ${a.default})` : '';
      const choices = (a.kind === 'option' || a.kind === 'positional') && a.choices ? ` One of: ${a.choices.join(', ')}.` : '';
      lines.push(`  ${spellings(a).padEnd(width)}  ${a.help}${choices}${dflt}`);
    }
  }
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e.replace(/\n/g, '\n  ')}`));
  return lines.join('\n');
}

function spellings(a: MagicSpec['args'][number]): string {
  if (a.kind === 'positional' || a.kind === 'rest') return optionUsage(a);
  const value = a.kind === 'option' ? ` ${a.metavar ?? a.name.toUpperCase()}` : '';
  return [...(a.aliases ?? []).map((x) => `-${x}`), `--${a.name}`].join(', ') + value;
}

/**
 * Parses a magic's argument text against its declared spec. Options take `--name VALUE`,
 * `--name=VALUE`, one-dash aliases (`-n 4`, `-n4`, `-np 4`); quoted values keep their spaces.
 * A `rest` argument takes everything after the options verbatim (`%time f(x) - g(y)`); `--`
 * ends the options. Every mistake is a UsageError that names the problem and the fix.
 */
import { closest, didYouMean } from './suggest.js';
import { UsageError, type ArgumentSpec, type FlagOption, type MagicSpec, type ParsedArgs, type Positional, type ValueOption } from './types.js';

interface Token {
  readonly text: string;
  /** Offset of the token's first character in the argument text. */
  readonly start: number;
  readonly quoted: boolean;
}

export function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i])) i++;
    if (i >= line.length) break;
    const start = i;
    let text = '';
    let quoted = false;
    while (i < line.length && !/\s/.test(line[i])) {
      const c = line[i];
      if (c === '"' || c === "'") {
        const end = line.indexOf(c, i + 1);
        if (end < 0) throw new UsageError(`unterminated ${c === '"' ? 'double' : 'single'} quote in: ${line.trim()}`);
        text += line.slice(i + 1, end);
        quoted = true;
        i = end + 1;
      } else {
        text += c;
        i++;
      }
    }
    tokens.push({ text, start, quoted });
  }
  return tokens;
}

export function magicLabel(spec: Pick<MagicSpec, 'kind' | 'name'>): string {
  return `${spec.kind === 'cell' ? '%%' : '%'}${spec.name}`;
}

/** How an option is written in messages: `-np N`, `--timeout S`, `--threads`. */
export function optionUsage(arg: ArgumentSpec): string {
  if (arg.kind === 'positional' || arg.kind === 'rest') return (arg.metavar ?? arg.name).toUpperCase();
  const flag = arg.aliases?.some((a) => a.length > 1) ? `-${arg.aliases.find((a) => a.length > 1)}` : `--${arg.name}`;
  return arg.kind === 'flag' ? flag : `${flag} ${arg.metavar ?? arg.name.toUpperCase()}`;
}

export function parseArgs(spec: MagicSpec, line: string): ParsedArgs {
  const label = magicLabel(spec);
  const options = spec.args.filter((a): a is ValueOption | FlagOption => a.kind === 'option' || a.kind === 'flag');
  const positionals = spec.args.filter((a): a is Positional => a.kind === 'positional');
  const rest = spec.args.find((a) => a.kind === 'rest');
  const args: ParsedArgs = {};
  const setBy = new Map<string, string>();

  for (const o of options) {
    if (o.kind === 'option' && o.default !== undefined) args[o.dest ?? o.name] = o.default;
    if (o.kind === 'option' && o.repeatable) args[o.dest ?? o.name] ??= [];
  }

  const tokens = tokenize(line);
  let positional = 0;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    if (!tok.quoted && tok.text === '--') {
      if (rest && i + 1 < tokens.length) args[rest.name] = line.slice(tokens[i + 1].start).trim();
      break;
    }
    const isOption = !tok.quoted && /^-{1,2}[A-Za-z]/.test(tok.text);
    if (!isOption) {
      if (positional < positionals.length) {
        const p = positionals[positional++];
        args[p.dest ?? p.name] = convert(label, p, tok.text, p.metavar ?? p.name);
        continue;
      }
      if (rest) {
        args[rest.name] = line.slice(tok.start).trim();
        break;
      }
      throw new UsageError(`${label}: unexpected argument '${tok.text}'. Usage: ${usage(spec)}`);
    }
    const { option, inlineValue } = findOption(label, options, tok.text);
    const key = option.dest ?? option.name;
    const shown = tok.text.split('=')[0];
    const previous = setBy.get(key);
    if (previous && option.kind === 'flag' && previous !== shown) {
      throw new UsageError(`${label}: ${previous} and ${shown} cannot be used together; choose one`);
    }
    setBy.set(key, shown);
    if (option.kind === 'flag') {
      if (inlineValue !== undefined) throw new UsageError(`${label}: ${shown} takes no value`);
      args[key] = option.value ?? true;
      continue;
    }
    let value = inlineValue;
    if (value === undefined) {
      const next = tokens[i + 1];
      if (!next || (!next.quoted && /^-{1,2}[A-Za-z]/.test(next.text) && option.type === 'string')) {
        throw new UsageError(`${label}: ${shown} needs a value (e.g. ${example(spec, option)})`);
      }
      value = next.text;
      i++;
    }
    const converted = convert(label, option, value, shown);
    if (option.repeatable) (args[key] as string[]).push(String(converted));
    else args[key] = converted;
  }

  for (const o of options) {
    if (o.kind === 'option' && o.required && args[o.dest ?? o.name] === undefined) {
      throw new UsageError(`${label} needs ${optionUsage(o)} (e.g. ${example(spec, o)})`);
    }
  }
  const missing = positionals.slice(positional).find((p) => !p.optional);
  if (missing) throw new UsageError(`${label} needs ${optionUsage(missing)}. Usage: ${usage(spec)}`);
  if (rest?.kind === 'rest' && args[rest.name] === undefined && !rest.optional) {
    throw new UsageError(`${label} needs ${rest.help.replace(/\.$/, '')}. Usage: ${usage(spec)}`);
  }
  return args;
}

function findOption(label: string, options: readonly (ValueOption | FlagOption)[], text: string): { option: ValueOption | FlagOption; inlineValue?: string } {
  const eq = text.indexOf('=');
  const name = eq >= 0 ? text.slice(0, eq) : text;
  const inlineValue = eq >= 0 ? text.slice(eq + 1) : undefined;
  if (name.startsWith('--')) {
    const long = name.slice(2);
    const found = options.find((o) => o.name === long || o.aliases?.includes(long));
    if (found) return { option: found, inlineValue };
  } else {
    const short = name.slice(1);
    const found = options.find((o) => o.aliases?.includes(short) || o.name === short);
    if (found) return { option: found, inlineValue };
    // -n4: a one-letter alias with its value attached.
    const attached = options.find((o) => o.kind === 'option' && o.aliases?.includes(short[0]));
    if (attached && inlineValue === undefined) return { option: attached, inlineValue: short.slice(1) };
  }
  const spellings = options.flatMap((o) => [`--${o.name}`, ...(o.aliases ?? []).map((a) => `-${a}`)]);
  const valid = options.map((o) => optionUsage(o).split(' ')[0]).join(', ');
  throw new UsageError(`${label}: unknown option ${name}${didYouMean(name, spellings)} (valid: ${valid || 'none'})`);
}

function convert(label: string, arg: ValueOption | Positional, raw: string, shown: string): string | number {
  const describe = describeBounds(arg);
  const kind = arg.type === 'integer' ? 'an integer' : 'a number';
  let value: string | number = raw;
  if (arg.type === 'integer') {
    if (!/^[+-]?\d+$/.test(raw)) throw new UsageError(`${label}: ${shown} must be an integer${describe}, got '${raw}'`);
    value = Number(raw);
  } else if (arg.type === 'number') {
    value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${label}: ${shown} must be a number${describe}, got '${raw}'`);
  }
  if (typeof value === 'number' && ((arg.min !== undefined && value < arg.min) || (arg.max !== undefined && value > arg.max))) {
    throw new UsageError(`${label}: ${shown} must be ${kind}${describe}, got ${raw}`);
  }
  if (arg.pattern && !arg.pattern.regex.test(raw)) {
    throw new UsageError(`${label}: ${shown} ${raw} is not ${arg.pattern.expected}; ${arg.pattern.fix}`);
  }
  if (arg.choices && !arg.choices.includes(String(value))) {
    const hint = closest(String(value), arg.choices);
    throw new UsageError(
      `${label}: ${shown} must be one of ${arg.choices.join(', ')}; got '${raw}'${hint ? ` (did you mean ${hint}?)` : ''}`,
    );
  }
  return value;
}

/** ' ≥ 1', ' ≤ 256', ' from 1 to 256' or ''. */
function describeBounds(arg: ValueOption | Positional): string {
  if (arg.min !== undefined && arg.max !== undefined) return ` from ${arg.min} to ${arg.max}`;
  if (arg.min !== undefined) return ` ≥ ${arg.min}`;
  return arg.max !== undefined ? ` ≤ ${arg.max}` : '';
}

/**
 * Refuses the empty body of a cell magic that needs one (MagicSpec.body), with one message
 * built from the magic's name and what its body holds.
 */
export function checkBody(spec: MagicSpec, body: string): void {
  if (spec.kind !== 'cell' || body.trim() !== '') return;
  const required = spec.body ? spec.body === 'required' : spec.args.every((a) => a.kind !== 'rest');
  if (!required) return;
  const label = magicLabel(spec);
  throw new UsageError(`${label} is a cell magic, but the cell body is empty: write ${spec.bodyHolds ?? 'the code'} below the ${label} line`);
}

function example(spec: MagicSpec, option: ArgumentSpec): string {
  const flag = optionUsage(option).split(' ')[0];
  const fromSpec = spec.examples?.find((e) => e.includes(`${flag} `));
  if (fromSpec) return fromSpec.split('\n')[0];
  return `${magicLabel(spec)} ${flag} ${option.kind === 'option' && option.type !== 'string' ? '4' : 'VALUE'}`;
}

export function usage(spec: MagicSpec): string {
  const parts = spec.args.map((a) => {
    const u = optionUsage(a);
    const required = (a.kind === 'option' && a.required) || (a.kind === 'positional' && !a.optional) || (a.kind === 'rest' && !a.optional);
    return required ? u : `[${u}]`;
  });
  return [magicLabel(spec), ...parts].join(' ');
}

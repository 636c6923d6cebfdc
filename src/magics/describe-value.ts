/** Short descriptions of notebook values for %whos: a type name and a one-line summary. */
import { inspect } from 'node:util';

const kWidth = 70;

/** The runtime type as users name it: `number`, `string`, `function`, `class`, `Float64Array`, `Map`, ... */
export function typeName(value: unknown): string {
  try {
    return runtimeType(value);
  } catch {
    return '?'; // a Proxy whose traps throw, say
  }
}

function runtimeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return /^class[\s{]/.test(Function.prototype.toString.call(value)) ? 'class' : 'function';
  if (typeof value !== 'object') return typeof value;
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
  return proto?.constructor?.name || 'Object';
}

/** `Float64Array(1000) 7.8 KiB`, `Array(3) [ 1, 2, 3 ]`, `Map(2)`, `42`, `'text'`, a function's source head. */
export function summarise(value: unknown): string {
  try {
    return summary(value);
  } catch {
    return '(cannot be inspected)';
  }
}

function summary(value: unknown): string {
  if (ArrayBuffer.isView(value)) {
    const length = 'length' in value ? `(${(value as unknown as { length: number }).length})` : '';
    return `${typeName(value)}${length} ${formatBytes(value.byteLength)}`;
  }
  if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer)) {
    return `${typeName(value)} ${formatBytes(value.byteLength)}`;
  }
  if (Array.isArray(value)) return fit(`Array(${value.length}) ${inspect(value, { depth: 0, breakLength: Infinity, maxArrayLength: 10 })}`);
  if (value instanceof Map || value instanceof Set) return `${typeName(value)}(${value.size})`;
  return fit(inspect(value, { depth: 0, breakLength: Infinity, maxArrayLength: 10, maxStringLength: kWidth }));
}

/** Bytes in binary units as IPython's %whos does for arrays: `800 B`, `7.8 KiB`, `3.1 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${n.toFixed(1)} ${units[u]}`;
}

function fit(text: string): string {
  const one = text.replace(/\s*\n\s*/g, ' ');
  return one.length > kWidth ? `${one.slice(0, kWidth - 1)}…` : one;
}

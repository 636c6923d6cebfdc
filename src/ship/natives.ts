/**
 * Native functions cannot be shipped by source (`function exp() { [native code] }`), but the
 * ones reachable from well-known globals can be shipped by their path: `Math.exp`,
 * `Number.isInteger`, `Array.prototype.map`, `Float64Array`.
 */
import { readGlobal } from '../util/global-object.js';

const kRoots = [
  'Math', 'JSON', 'Number', 'String', 'Object', 'Array', 'Boolean', 'Date', 'RegExp', 'Reflect',
  'Atomics', 'BigInt', 'Symbol', 'Promise', 'Map', 'Set', 'WeakMap', 'WeakSet', 'ArrayBuffer',
  'SharedArrayBuffer', 'DataView', 'Error', 'TypeError', 'RangeError', 'Intl', 'Buffer', 'console',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array',
  'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
  'parseInt', 'parseFloat', 'isNaN', 'isFinite', 'encodeURIComponent', 'decodeURIComponent',
  'encodeURI', 'decodeURI', 'structuredClone', 'setTimeout', 'clearTimeout', 'setImmediate',
  'queueMicrotask', 'performance',
];

let paths: Map<Function, string> | undefined;

function isNativeSource(fn: Function): boolean {
  return /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));
}

function build(): Map<Function, string> {
  const map = new Map<Function, string>();
  const add = (value: unknown, path: string): void => {
    if (typeof value === 'function' && !map.has(value)) map.set(value, path);
  };
  const addMembers = (owner: object, prefix: string): void => {
    for (const key of Object.getOwnPropertyNames(owner)) {
      if (!/^[A-Za-z_$][\w$]*$/.test(key)) continue;
      const desc = Object.getOwnPropertyDescriptor(owner, key);
      if (desc && 'value' in desc) add(desc.value, `${prefix}.${key}`);
    }
  };
  for (const root of kRoots) {
    const value = readGlobal(root);
    if (value === undefined || value === null) continue;
    add(value, root);
    if (typeof value === 'object' || typeof value === 'function') addMembers(value as object, root);
    const proto = typeof value === 'function' ? (value as { prototype?: unknown }).prototype : undefined;
    if (proto && typeof proto === 'object') addMembers(proto, `${root}.prototype`);
  }
  return map;
}

/**
 * `Math.exp` for Math.exp; undefined when the function is not reachable from a well-known
 * global. Functions there are the same in every thread, native or not (Buffer.from is JS).
 */
export function globalPath(fn: Function): string | undefined {
  paths ??= build();
  return paths.get(fn);
}

/** Whether the function's source text is unavailable (`[native code]`: natives, bound functions). */
export function hasNoSource(fn: Function): boolean {
  return isNativeSource(fn);
}

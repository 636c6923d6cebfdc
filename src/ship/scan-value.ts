/**
 * Decides how a data value travels. Structured clone copies plain data (and shares typed
 * arrays on SharedArrayBuffers between threads); functions found inside plain objects and arrays
 * become "holes" that the generated module fills with shipped code; everything else that
 * structured clone would silently mangle or reject (sockets, streams, class instances with
 * methods, promises, symbols) is reported with a reason.
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { Stream } from 'node:stream';
import { Reasons, type UnshippableReason } from './errors.js';

export type PathKey = string | number;

/** A function found inside a data value, at `path`. */
export interface FunctionHole {
  readonly path: readonly PathKey[];
  readonly fn: Function;
}

export type ScanResult =
  | { readonly ok: true; readonly holes: readonly FunctionHole[] }
  | { readonly ok: false; readonly reason: UnshippableReason; readonly path: readonly PathKey[] };

class Rejected {
  constructor(
    readonly reason: UnshippableReason,
    readonly path: PathKey[],
  ) {}
}

/** Scans `value` (not itself a function) for what structured clone cannot carry. */
export function scanValue(value: unknown): ScanResult {
  const holes: FunctionHole[] = [];
  try {
    walk(value, [], holes, new Set());
  } catch (err) {
    if (err instanceof Rejected) return { ok: false, reason: err.reason, path: err.path };
    throw err;
  }
  return { ok: true, holes };
}

/** Formats a path for messages: cfg.items[2].fn */
export function formatPath(root: string, path: readonly PathKey[]): string {
  let out = root;
  for (const key of path) {
    out += typeof key === 'number' ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  }
  return out;
}

function walk(value: unknown, path: PathKey[], holes: FunctionHole[], seen: Set<object>): void {
  switch (typeof value) {
    case 'function':
      holes.push({ path: path.slice(), fn: value });
      return;
    case 'symbol':
      throw new Rejected(Reasons.symbol(), path.slice());
    case 'object':
      break;
    default:
      return; // number, string, boolean, bigint, undefined
  }
  if (value === null || seen.has(value)) return;
  seen.add(value);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return;
  if (value instanceof Date || value instanceof RegExp || value instanceof Error) return;
  if (value instanceof Boolean || value instanceof Number || value instanceof String) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item !== null && (typeof item === 'object' || typeof item === 'function' || typeof item === 'symbol')) {
        path.push(i);
        walk(item, path, holes, seen);
        path.pop();
      }
    }
    return;
  }
  if (value instanceof Map || value instanceof Set) {
    const kind = value instanceof Map ? 'Map' : 'Set';
    const entries = value instanceof Map ? [...value.keys(), ...value.values()] : [...value.values()];
    for (const item of entries) {
      const inner: FunctionHole[] = [];
      walk(item, path, inner, seen);
      if (inner.length > 0) throw new Rejected(Reasons.containerOfFunctions(kind), path.slice());
    }
    return;
  }
  const rejection = rejectionFor(value);
  if (rejection) throw new Rejected(rejection, path.slice());
  for (const key of Object.keys(value)) {
    path.push(key);
    walk((value as Record<string, unknown>)[key], path, holes, seen);
    path.pop();
  }
}

/** Why an object (not an array, Map, Set or built-in clonable) cannot travel, if it cannot. */
function rejectionFor(value: object): UnshippableReason | undefined {
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Object.prototype || proto === null) return undefined;
  const name = constructorName(value);
  if (value instanceof net.Socket) return Reasons.socket(`net.${name}`);
  if (value instanceof Stream) return Reasons.stream(name);
  if (value instanceof EventEmitter || value instanceof EventTarget) return Reasons.handle(name);
  if (value instanceof Promise) return Reasons.promise();
  if (value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) return Reasons.weak(name);
  if (['Timeout', 'Immediate', 'FileHandle', 'Dir', 'KeyObject'].includes(name)) return Reasons.handle(name);
  if (hasMethods(proto)) return Reasons.classInstance(name);
  return undefined; // an instance without methods arrives as a plain object with its fields
}

function constructorName(value: object): string {
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'anonymous class';
}

function hasMethods(proto: object | null): boolean {
  for (let p = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const key of Reflect.ownKeys(p)) {
      if (key === 'constructor') continue;
      const desc = Object.getOwnPropertyDescriptor(p, key);
      if (desc && (typeof desc.value === 'function' || desc.get || desc.set)) return true;
    }
  }
  return false;
}

/**
 * A copy of `value` with the holes set to null, copying only the objects on the paths to them
 * (the rest is shared with the original and copied by structured clone when sent).
 */
export function withHolesCleared(value: unknown, holes: readonly FunctionHole[]): unknown {
  if (holes.length === 0) return value;
  const copies = new Map<object, unknown[] | Record<string, unknown>>();
  const copyOf = (obj: object): unknown[] | Record<string, unknown> => {
    let copy = copies.get(obj);
    if (!copy) {
      copy = Array.isArray(obj) ? obj.slice() : { ...(obj as Record<string, unknown>) };
      copies.set(obj, copy);
    }
    return copy;
  };
  const root = copyOf(value as object);
  for (const hole of holes) {
    let original = value as Record<PathKey, unknown>;
    let target = root as Record<PathKey, unknown>;
    hole.path.forEach((key, i) => {
      if (i === hole.path.length - 1) {
        target[key] = null;
        return;
      }
      const next = original[key] as object;
      const nextCopy = copyOf(next);
      target[key] = nextCopy;
      original = next as Record<PathKey, unknown>;
      target = nextCopy as Record<PathKey, unknown>;
    });
  }
  return root;
}

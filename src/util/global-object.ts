/**
 * The package's one door to the global object, so that a grep shows every process-wide name:
 * symbols that every copy of the package must agree on (a marker that a cell's objects carry),
 * globals that generated code reads (the %%parallel runner, a rank program's names), and the
 * names the global object already has. State of the package itself does not live here but in
 * the process context (process-context.ts), whose one slot `sharedGlobal` keeps.
 */
import * as vm from 'node:vm';

type GlobalObject = Record<string | symbol, unknown>;
const g = globalThis as unknown as GlobalObject;

/** `Symbol.for('tslab-parallel.' + name)`: the same symbol in every copy of the package and every realm. */
export function sharedSymbol(name: string): symbol {
  return Symbol.for(`tslab-parallel.${name}`);
}

/** The value under a shared symbol, made on first use (only the process context keeps one). */
export function sharedGlobal<T>(name: string, create: () => T): T {
  const key = sharedSymbol(name);
  return (g[key] ??= create()) as T;
}

/** Publishes `value` under a shared symbol, for code that reads it without this package. */
export function publishShared(name: string, value: unknown): void {
  g[sharedSymbol(name)] = value;
}

export function readShared(name: string): unknown {
  return g[sharedSymbol(name)];
}

/** Defines a non-enumerable global that code run here reads by name. */
export function defineGlobal(name: string, value: unknown): void {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

export function readGlobal(name: string): unknown {
  return g[name];
}

export function deleteGlobal(name: string): void {
  delete g[name];
}

/** Whether the global object has `name` (own or inherited). */
export function hasGlobal(name: string): boolean {
  return name in globalThis;
}

/** The global object's own names now, plus the language's globals in a pristine context. */
export function globalNames(): string[] {
  return [...Object.getOwnPropertyNames(globalThis), ...(vm.runInNewContext('Object.getOwnPropertyNames(globalThis)') as string[])];
}

/** A TypeScript expression, for generated code, that reads the global `name`. */
export function globalExpression(name: string): string {
  return `(globalThis as any).${name}`;
}

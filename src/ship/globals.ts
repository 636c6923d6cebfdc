/**
 * Names that exist as globals in a fresh worker thread or child process. A free name found
 * here needs nothing shipped. Captured when this module loads (before notebook code could add
 * globals of its own), plus the language's globals from a pristine context.
 */
import * as vm from 'node:vm';

const kGlobals: ReadonlySet<string> = new Set<string>([
  ...Object.getOwnPropertyNames(globalThis),
  ...(vm.runInNewContext('Object.getOwnPropertyNames(globalThis)') as string[]),
  // Node's lazily installed globals, present in every thread.
  'process', 'Buffer', 'global', 'console', 'queueMicrotask', 'structuredClone',
  'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate',
  'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder', 'AbortController', 'AbortSignal',
  'EventTarget', 'Event', 'MessageChannel', 'MessagePort', 'MessageEvent', 'BroadcastChannel',
  'Blob', 'performance', 'fetch', 'crypto', 'atob', 'btoa', 'navigator', 'WebAssembly',
  'undefined', 'NaN', 'Infinity', 'globalThis',
]);

export function isGlobalName(name: string): boolean {
  return kGlobals.has(name);
}

/**
 * Names that exist as globals in a fresh worker thread or child process. A free name found
 * here needs nothing shipped. Captured when this module loads (before notebook code could add
 * globals of its own), plus the language's globals from a pristine context.
 */
import { globalNames } from '../util/global-object.js';

const kGlobals: ReadonlySet<string> = new Set<string>([
  ...globalNames(), // includes the name of the global object itself
  // Node's lazily installed globals, present in every thread.
  'process', 'Buffer', 'global', 'console', 'queueMicrotask', 'structuredClone',
  'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate',
  'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder', 'AbortController', 'AbortSignal',
  'EventTarget', 'Event', 'MessageChannel', 'MessagePort', 'MessageEvent', 'BroadcastChannel',
  'Blob', 'performance', 'fetch', 'crypto', 'atob', 'btoa', 'navigator', 'WebAssembly',
  'undefined', 'NaN', 'Infinity',
]);

export function isGlobalName(name: string): boolean {
  return kGlobals.has(name);
}

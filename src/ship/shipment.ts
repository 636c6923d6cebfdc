/**
 * The shipment: what travels to a worker thread, child process or rank. Shared by the main side
 * (index.ts builds it) and the worker side (load.ts evaluates it); plain data only, so that it
 * survives structured clone (postMessage, process IPC with advanced serialization).
 */
import type { ResolvedImport } from './imports.js';
import type { SourceOrigin } from './types.js';

/** Where a piece of shipped source sits in the generated module, and where it came from. */
export interface ShippedSegment {
  /** The shipped name (`square`, `__tslab_value_2`), for frames whose origin is unknown. */
  readonly name: string;
  /** 1-based line in the module where the source starts. */
  readonly line: number;
  /** 0-based column on that line where the source starts. */
  readonly column: number;
  /** Number of lines the source spans. */
  readonly lines: number;
  /** Where the source starts in the cell's generated JavaScript, when known. */
  readonly origin?: SourceOrigin;
}

export interface Shipment {
  /** Hash of the generated code: workers compile each id once. */
  readonly id: string;
  /** A JavaScript function expression: (__tslab_ship, require, module, __filename, __dirname) => entries. */
  readonly code: string;
  /** Values the module reads by binding name (structured clone; SharedArrayBuffer views are shared). */
  readonly data: Record<string, unknown>;
  /** Names of the functions the module returns (the keys given to ship()). */
  readonly entries: readonly string[];
  /** Directory that require() resolves from in the worker (the notebook's directory). */
  readonly cwd: string;
  /** Line table for mapShippedStack. */
  readonly segments: readonly ShippedSegment[];
  /** Modules the code requires (already in `code`; listed for receivers that preload). */
  readonly imports: readonly ResolvedImport[];
  /** Some required module was compiled from TypeScript with inline source maps. */
  readonly sourceMaps: boolean;
}

/** The file name shipped code runs under in stack traces. */
export function shippedFileName(id: string): string {
  return `tslab-ship-${id}.js`;
}

/** Matches frames of shipped code: file, line, column. */
export const kShippedFramePattern = /tslab-ship-([0-9a-f]+)\.js:(\d+):(\d+)/g;

/** Prefix of names the generated module uses for itself. */
export const kInternalPrefix = '__tslab_';

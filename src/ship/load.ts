/**
 * Shipping, worker side: evaluates a shipment and maps stack frames of shipped code back to the
 * cells they came from. Loaded in every worker thread, child process and rank, so it must stay
 * light: no typescript here (partial.ts only loads its parser lazily, and never in a worker).
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { makePartial } from './partial.js';
import { kShippedFramePattern, shippedFileName, type Shipment, type ShippedSegment } from './shipment.js';

type ModuleFactory = (
  rt: ShipRuntime,
  require: NodeJS.Require,
  module: { exports: Record<string, unknown> },
  filename: string,
  dirname: string,
) => Record<string, Function>;

/** Helpers the generated module calls (`__tslab_ship.fill(...)` etc.). */
interface ShipRuntime {
  readonly data: Record<string, unknown>;
  fill(value: unknown, holes: readonly [readonly (string | number)[], unknown][]): unknown;
  partial: typeof makePartial;
  method(holder: Record<string, unknown>): unknown;
  interopDefault(mod: unknown): unknown;
}

const kCompiledLimit = 256;
/** Compiled module factories by shipment id: a worker compiles each module once. */
const compiled = new Map<string, ModuleFactory>();
/** Line tables by shipment id, for mapShippedStack. */
const segmentsById = new Map<string, readonly ShippedSegment[]>();
/** Evaluated shipments: loading the same shipment object twice returns the same functions. */
const loaded = new WeakMap<Shipment, Record<string, Function>>();

/**
 * Evaluates the shipment's module with its data and returns its entries by name. The module
 * is compiled once per id; each new shipment object (new data) is evaluated once.
 */
export function loadShipment(s: Shipment): Record<string, Function> {
  const hit = loaded.get(s);
  if (hit) return hit;
  if (s.sourceMaps) enableSourceMaps();
  const entries = instantiate(s, factoryFor(s));
  loaded.set(s, entries);
  return entries;
}

/** Runs a module factory of the shipment with its data, as if it were a file in its cwd. */
function instantiate(s: Shipment, factory: ModuleFactory): Record<string, Function> {
  const filename = path.join(s.cwd, 'tslab-shipped.js');
  return factory(runtime(s.data), createRequire(filename), { exports: {} }, filename, s.cwd);
}

let copiesMade = 0;

/**
 * Evaluates the shipment's module once more, from `code` (its code as the caller rewrote it),
 * inside a function of `param` that is called with `argument`. The functions it returns are new
 * to V8: compiled for themselves, they see `param` as a constant. Frames keep the shipment's
 * file name, so mapShippedStack maps them.
 */
export function loadShipmentCopy(s: Shipment, code: string, param: string, argument: unknown): Record<string, Function> {
  // A last line of its own: V8 would reuse the compiled functions of an identical source.
  const source = `(function (${param}) { return ${code}; })\n// copy ${++copiesMade}`;
  const script = new vm.Script(source, { filename: shippedFileName(s.id), ...dynamicImportOption() });
  segmentsById.set(s.id, s.segments);
  return instantiate(s, (script.runInThisContext() as (arg: unknown) => ModuleFactory)(argument));
}

/**
 * Rewrites frames of shipped code (`tslab-ship-<id>.js:12:5`) to where that code came from:
 * `file:line:column` of the cell's generated JavaScript (column 1-based, as V8 writes them), or
 * `shipped:<name>:line:column` relative to the shipped function when its origin is unknown.
 */
export function mapShippedStack(stack: string): string {
  // Anonymous functions are bound to internal names in the module; users wrote no name.
  return stack.replace(/\bat (async )?__tslab_value_\d+ \(/g, 'at $1<anonymous> (').replace(kShippedFramePattern, (frame, id: string, lineText: string, columnText: string) => {
    const segments = segmentsById.get(id);
    const line = Number(lineText);
    const column = Number(columnText);
    const seg = segments?.find((s) => line >= s.line && line < s.line + s.lines);
    if (!seg) return frame;
    const rel = line - seg.line;
    if (seg.origin) {
      const col = rel === 0 ? seg.origin.column + (column - seg.column) : column;
      return `${seg.origin.file}:${seg.origin.line + rel}:${col}`;
    }
    return `shipped:${seg.name}:${rel + 1}:${rel === 0 ? column - seg.column : column}`;
  });
}

function factoryFor(s: Shipment): ModuleFactory {
  let factory = compiled.get(s.id);
  if (!factory) {
    const script = new vm.Script(s.code, { filename: shippedFileName(s.id), ...dynamicImportOption() });
    factory = script.runInThisContext() as ModuleFactory;
    if (compiled.size >= kCompiledLimit) {
      const oldest = compiled.keys().next().value as string;
      compiled.delete(oldest);
      segmentsById.delete(oldest);
    }
    compiled.set(s.id, factory);
  }
  segmentsById.set(s.id, s.segments);
  return factory;
}

/** Lets shipped code use import() (Node ≥ 20.16 has a loader constant for vm scripts). */
function dynamicImportOption(): { importModuleDynamically?: vm.ScriptOptions['importModuleDynamically'] } {
  const constants = (vm as unknown as { constants?: { USE_MAIN_CONTEXT_DEFAULT_LOADER?: unknown } }).constants;
  const loader = constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  return loader === undefined ? {} : { importModuleDynamically: loader as vm.ScriptOptions['importModuleDynamically'] };
}

function runtime(data: Record<string, unknown>): ShipRuntime {
  return {
    data,
    fill(value, holes) {
      for (const [keys, fn] of holes) {
        let target = value as Record<string | number, unknown>;
        for (let i = 0; i < keys.length - 1; i++) target = target[keys[i] as string | number] as Record<string | number, unknown>;
        target[keys[keys.length - 1] as string | number] = fn;
      }
      return value;
    },
    partial: makePartial,
    method(holder) {
      return holder[Object.keys(holder)[0] as string];
    },
    interopDefault(mod) {
      const m = mod as { __esModule?: boolean; default?: unknown } | null;
      return m && m.__esModule ? m.default : mod;
    },
  };
}

let sourceMapsEnabled = false;
function enableSourceMaps(): void {
  if (sourceMapsEnabled) return;
  sourceMapsEnabled = true;
  const p = process as unknown as { setSourceMapsEnabled?: (on: boolean) => void };
  p.setSourceMapsEnabled?.(true);
}

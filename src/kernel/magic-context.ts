/** Builds the MagicContext a magic handler receives: its only way to reach the kernel. */
import type { Engine } from '../engine/engine.js';
import { display, displayBundle } from '../display/display.js';
import type { MagicContext, MagicSpec, ParsedArgs } from '../magics/types.js';
import type { DefinitionRegistry } from './definitions.js';

/** How the definitions registry names the prelude's cell (its names are hidden from %who). */
const kPreludeCell = 'cell prelude';

/** What the kernel lends to every magic of one cell execution. */
export interface CellScope {
  readonly engine: Engine;
  readonly definitions: DefinitionRegistry;
  readonly signal: AbortSignal;
  readonly label: string;
  readonly cellText: string;
  /** A fresh file name for code compiled while this cell runs ("In[3].2"). */
  nextFile(): string;
  stream(name: 'stdout' | 'stderr', text: string): void;
  /** Runs user code (with interrupt handling) and returns its result. */
  runUser<T>(fn: () => Promise<T>): Promise<T>;
  state<T>(key: string, create: () => T): T;
  onShutdown(cleanup: () => Promise<void> | void): void;
}

export function createMagicContext(
  scope: CellScope,
  invocation: { spec: MagicSpec; args: ParsedArgs; line: string; body: string; bodyLine: number },
): MagicContext {
  const { engine } = scope;
  const compileOptions = (lineOffset = 0, label = scope.label, cellText = scope.cellText) => ({ file: scope.nextFile(), label, cellText, lineOffset });
  return {
    ...invocation,
    signal: scope.signal,
    cwd: engine.cwd,
    definitions: scope.definitions,
    stdout: (text) => scope.stream('stdout', text),
    stderr: (text) => scope.stream('stderr', text),
    display: (value, options) => display(value, options),
    displayBundle: (bundle, options) => displayBundle(bundle, options),
    async execute(source, options) {
      const cell = await engine.compile(source, { ...compileOptions(options?.lineOffset, options?.label, options?.text), untyped: options?.javascript });
      return scope.runUser(() => cell.run());
    },
    async evaluate(expression) {
      const fn = await engine.compileFunction(`return (${expression}\n);`, compileOptions());
      return fn();
    },
    variables: () =>
      Object.keys(engine.namespace).map((name) => ({
        name,
        value: engine.namespace[name],
        hidden: name.startsWith('_') || scope.definitions.lookup(name)?.cell === kPreludeCell,
      })),
    describe: (name) => engine.inspect(name, 0),
    compile: (source, options) => engine.compileFunction(source, compileOptions(options?.lineOffset)),
    async compileForShipping(source, options) {
      const f = await engine.compileForShipping(source, { ...compileOptions(options.lineOffset), params: options.params, paramTypes: options.paramTypes });
      return { code: f.code, origin: { file: f.file, line: f.line, column: f.column }, provided: options.params, isAsync: f.isAsync };
    },
    async compileScoped(source, options) {
      const f = await engine.compileScoped(source, { ...compileOptions(options.lineOffset), scope: options.scope });
      return { code: f.code, origin: { file: f.file, line: f.line, column: f.column }, declared: f.declared, scope: f.scope };
    },
    setVariable(name, value, type) {
      engine.bind(name, value, type);
      scope.definitions.registerBinding(name, `%${invocation.spec.name}`);
    },
    deleteVariable: (name) => engine.unbind(name),
    state: (key, create) => scope.state(`${invocation.spec.name}:${key}`, create),
    onShutdown: (cleanup) => scope.onShutdown(cleanup),
  };
}

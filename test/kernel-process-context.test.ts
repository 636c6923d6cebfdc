// The kernel's process context (src/util/process-context.ts): attach creates it and makes it
// current, detach disposes it and leaves no process listener and no interrupt subscriber behind.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// Through Node's require, as the kernel loads them: one instance of each module.
const load = createRequire(import.meta.url);
const { Engine } = load('../dist/src/engine/engine.js');
const { DefinitionRegistry } = load('../dist/src/kernel/definitions.js');
const { Kernel } = load('../dist/src/kernel/kernel.js');
const { createMagicRegistry } = load('../dist/src/magics/index.js');
const { currentSink } = load('../dist/src/display/sink.js');
const { notebookDefinitions } = load('../dist/src/ship/notebook.js');
const { parallelRuntime } = load('../dist/src/parallel/index.js');
const { installedRuntime } = load('../dist/src/parallel/runtime/serial-runtime.js');
const { interruptListenerCount, onKernelInterrupt } = load('../dist/src/util/interrupt.js');
const { currentContext, defaultContext } = load('../dist/src/util/process-context.js');

const kEvents = ['uncaughtException', 'unhandledRejection'] as const;

function makeKernel(published: string[]) {
  const engine = new Engine({ cwd: process.cwd(), aliases: new Map(), prelude: '' });
  const definitions = new DefinitionRegistry({ namespace: engine.namespace, cwd: process.cwd(), scripts: () => undefined, aliases: new Map() });
  const kernel = new Kernel({ engine, magics: createMagicRegistry(), definitions, packageRoot: process.cwd(), log: () => undefined });
  // The I/O thread's side of publishing: what the kernel would send to the clients.
  const io = {
    publish: (_parent: unknown, msgType: string) => published.push(msgType),
    stream: (_parent: unknown, name: string) => published.push(name),
    setExecState: () => undefined,
  };
  return { kernel, io, definitions, engine };
}

describe('the kernel process context', () => {
  it('is current while attached and owns the sink, the definitions and the interrupt bus', () => {
    const published: string[] = [];
    const { kernel, io, definitions, engine } = makeKernel(published);
    kernel.attach(io);
    try {
      const context = currentContext();
      expect(context).not.toBe(defaultContext());
      expect(notebookDefinitions()).toBe(definitions);
      currentSink().display({ 'text/plain': 'shown' }, {}, undefined);
      expect(published).toEqual(['display_data']);
      let interrupts = 0;
      onKernelInterrupt(() => interrupts++);
      kernel.interrupt();
      expect(interrupts).toBe(1);
    } finally {
      kernel.detach();
      engine.close();
    }
    expect(currentContext()).toBe(defaultContext());
    expect(notebookDefinitions()).toBeUndefined();
  });

  it('detach leaves no process listeners and no interrupt subscribers behind', () => {
    const before = kEvents.map((e) => process.listenerCount(e));
    const runtimeBefore = installedRuntime();
    const { kernel, io, engine } = makeKernel([]);
    kernel.attach(io);
    const context = currentContext();
    let interrupts = 0;
    try {
      expect(kEvents.map((e) => process.listenerCount(e))).toEqual(before.map((n) => n + 1));
      // What a cell does: the %%parallel runtime and a library subscribe to interrupts.
      const runtime = parallelRuntime();
      expect(installedRuntime()).toBe(runtime);
      onKernelInterrupt(() => interrupts++);
      expect(interruptListenerCount(context)).toBe(2);
    } finally {
      kernel.detach();
      engine.close();
    }
    expect(kEvents.map((e) => process.listenerCount(e))).toEqual(before);
    expect(interruptListenerCount(context)).toBe(0);
    expect(context.disposed).toBe(true);
    expect(installedRuntime()).toBe(runtimeBefore);
    kernel.interrupt();
    expect(interrupts).toBe(0);
    expect(interruptListenerCount(defaultContext())).toBe(0);
  });
});

describe('shell jobs', () => {
  it('a job a command left in the background is ended when the kernel detaches', async () => {
    const { runShell } = load('../dist/src/magics/sh.js');
    const { kernel, io, engine } = makeKernel([]);
    kernel.attach(io);
    let out = '';
    try {
      await runShell('sleep 600 & echo $!', {
        cwd: process.cwd(),
        signal: new AbortController().signal,
        stdout: (text: string) => (out += text),
        stderr: () => undefined,
      });
    } finally {
      kernel.detach();
      engine.close();
    }
    const pid = Number(out.trim());
    expect(pid).toBeGreaterThan(0);
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    while (alive()) await new Promise((r) => setTimeout(r, 20));
    expect(alive()).toBe(false);
  });
});

describe('a library given a context', () => {
  it('a pool listens to the interrupts of the context it was given, until it closes', async () => {
    const { Pool } = load('../dist/src/pool/index.js');
    const { ProcessContext } = load('../dist/src/util/process-context.js');
    const { notifyKernelInterrupt } = load('../dist/src/util/interrupt.js');
    const context = new ProcessContext();
    const pool = new Pool({ workers: 1, context });
    try {
      expect(interruptListenerCount(context)).toBe(1);
      expect(interruptListenerCount(defaultContext())).toBe(0);
      expect(await pool.map((x: number) => x * 2, [1, 2])).toEqual([2, 4]);
      // An interrupt of another context leaves it working.
      notifyKernelInterrupt(defaultContext());
      expect(await pool.map((x: number) => x + 1, [1])).toEqual([2]);
    } finally {
      await pool.close();
    }
    expect(interruptListenerCount(context)).toBe(0);
    context.dispose();
  });
});

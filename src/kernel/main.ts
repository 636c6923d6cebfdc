/**
 * `tslab-parallel kernel -f CONNECTION_FILE`: the kernel process. The main thread runs cells;
 * the I/O thread (protocol/io-thread.ts) owns the sockets. Started by Jupyter from the
 * kernelspec, with --no-force-async-hooks-checks (see protocol/interrupter.ts).
 */
import { randomUUID } from 'node:crypto';
import { writeSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { writeCodeCaches } from '../engine/code-cache.js';
import { Engine } from '../engine/engine.js';
import { createMagicRegistry } from '../magics/index.js';
import { terminateDescendants } from '../protocol/children.js';
import { IoThread } from '../protocol/io-host.js';
import { kPackageIndex, kPackageRoot } from '../util/package.js';
import { DefinitionRegistry } from './definitions.js';
import { Kernel } from './kernel.js';
import { kernelInfo } from './kernel-info.js';
import { preludeSource } from './prelude.js';

/**
 * The old generation's next collection comes when it has grown by this percentage over what
 * the last one kept, instead of V8's adaptive factor (up to 4x while allocation is fast): each
 * cell's type check builds a whole program and throws the previous one away, and with the
 * adaptive factor that garbage piled up to twice tslab's resident memory within 200 cells.
 * 50, not 100: with the larger young generation (protocol/kernel-node-options.ts) little of a
 * cell's garbage reaches the old generation, and the tighter bound took 40 MiB off the RSS after
 * 200 cells for the same time per cell (a few ms more of helper-thread CPU).
 */
const kHeapGrowingPercent = 50;

export async function runKernel(connectionFile: string): Promise<void> {
  const log = (text: string) => {
    writeSync(2, `[tslab-parallel kernel] ${text}\n`);
  };
  const cwd = process.cwd();
  const aliases = new Map([
    ['tslab-parallel', kPackageIndex],
    ['tslab', kPackageIndex],
  ]);
  let definitions: DefinitionRegistry | undefined;
  const engine = new Engine({ cwd, aliases, prelude: preludeSource(), onCompile: (cell) => definitions?.register(cell) });
  definitions = new DefinitionRegistry({ namespace: engine.namespace, cwd, scripts: (f) => engine.sources.script(f), aliases });
  const kernel = new Kernel({ engine, magics: createMagicRegistry(), definitions, packageRoot: kPackageRoot, log });

  // SIGINT is watched by the I/O thread; this listener only keeps Node's default (exit) away.
  process.on('SIGINT', () => undefined);
  const ioStarting = IoThread.start(connectionFile, randomUUID(), kernelInfo(), {
    request: (r) => kernel.handle(r),
    interrupt: () => kernel.interrupt(),
    shutdown: (restart) => kernel.shutdown(restart),
  });
  // The compiler loads while the I/O thread starts: it answers kernel_info on its own, and the
  // first cell would otherwise wait for both one after the other.
  try {
    engine.loadCompiler();
  } catch (err) {
    log(`loading the compiler failed: ${(err as Error).stack ?? err}`);
  }
  const io = await ioStarting;
  kernel.attach(io);

  let exiting = false;
  const exit = (code: number) => {
    if (exiting) return;
    exiting = true;
    // Nothing a cell started outlives the kernel (as ipykernel ends its children at shutdown).
    void terminateDescendants()
      .catch((err: Error) => log(`could not end the kernel's child processes: ${err.message}`))
      .finally(() => {
        kernel.detach();
        process.exit(code);
      });
  };
  void io.closed.then(() => exit(0));
  process.once('SIGTERM', () => {
    void kernel.shutdown(false).finally(() => void io.close().finally(() => exit(0)));
  });
  // Run the prelude now, so the first cell does not wait for it. The heap grows fastest while the
  // compiler loads: the fixed growing factor applies from then on, where cells' garbage piles up.
  setImmediate(() =>
    void engine
      .warmUp()
      .catch((err: Error) => log(`engine warm-up failed: ${err.stack ?? err}`))
      .finally(() => {
        // Only when there was none (the first start, a new TypeScript or Node). Before the flag:
        // V8 accepts a cache only under the flags it was made with.
        writeCodeCaches();
        setFlagsFromString(`--heap-growing-percent=${kHeapGrowingPercent}`);
      }),
  );
}

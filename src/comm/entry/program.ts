/**
 * Turns a RankProgram into something to run with the rank's world communicator: a function
 * from the launcher, a script file, or a notebook shipment.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as vm from 'node:vm';
import { defineGlobal } from '../../util/global-object.js';
import { loadShipment, mapShippedStack } from '../../ship/load.js';
import type { Communicator } from '../communicator.js';
import type { RankProgram } from '../messages.js';
import { kScriptDone, registerTypeScript } from './typescript-hook.js';

export interface LoadedProgram {
  run(comm: Communicator): Promise<unknown>;
  /** Maps stack frames of the program back to where its code came from (notebook cells). */
  mapStack(stack: string): string;
}

type RankFunction = (comm: Communicator, rank: number, size: number, data: unknown) => unknown;

const identity = (stack: string): string => stack;

export function loadProgram(program: RankProgram): LoadedProgram {
  switch (program.kind) {
    case 'function': {
      // `require` is handed in so the function can load modules relative to the caller's cwd.
      const wrapper = vm.runInThisContext(`(function (require) { return (${program.code}\n); })`, {
        filename: 'rank-function.js',
      }) as (require: NodeJS.Require) => unknown;
      const fn = wrapper(createRequire(path.join(program.cwd, 'rank-function.js')));
      if (typeof fn !== 'function') throw new TypeError('the rank code is not a function; pass the source of (comm, rank, size) => { ... }');
      return { run: (comm) => Promise.resolve((fn as RankFunction)(comm, comm.rank, comm.size, program.data)), mapStack: identity };
    }
    case 'shipment': {
      // Integration point with src/ship: the shipment's module returns the rank function by name.
      const fn = loadShipment(program.shipment)[program.entry] as RankFunction | undefined;
      if (typeof fn !== 'function') throw new TypeError(`the shipment has no entry '${program.entry}'; ship the rank code under that key`);
      return { run: (comm) => Promise.resolve(fn(comm, comm.rank, comm.size, program.data)), mapStack: mapShippedStack };
    }
    case 'script':
      return { run: (comm) => runScriptFile(program.file, program.args, comm), mapStack: identity };
    case 'session':
      throw new TypeError('a session rank runs cells it is sent (session/rank-loop.ts), not a program');
  }
}

/**
 * Runs a script as the rank's main program. The rank is done when the script's module has
 * loaded, its exported `main(comm, rank, size)` (or default) function, if any, has settled,
 * and nothing is left on the event loop (a script's pending work runs to the end, as under
 * mpirun).
 */
async function runScriptFile(file: string, args: readonly string[], comm: Communicator): Promise<unknown> {
  process.argv = [process.execPath, file, ...args];
  // As in a %%mpirun cell, a script has comm, rank and size in scope without an import.
  for (const [name, value] of Object.entries({ comm, rank: comm.rank, size: comm.size })) {
    defineGlobal(name, value);
  }
  let exports: unknown;
  if (/\.[cm]?tsx?$/.test(file)) registerTypeScript();
  if (file.endsWith('.mjs')) exports = await import(pathToFileURL(file).href);
  else {
    try {
      exports = require(file);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw err;
      exports = await import(pathToFileURL(file).href);
    }
  }
  const mod = exports as { main?: unknown; default?: unknown; [kScriptDone]?: Promise<unknown> } | undefined;
  // A .ts script with top-level await runs as an async function (see typescript-hook.ts).
  await mod?.[kScriptDone];
  const main = typeof mod?.main === 'function' ? mod.main : typeof mod?.default === 'function' ? mod.default : undefined;
  const value = main ? await (main as RankFunction)(comm, comm.rank, comm.size, undefined) : undefined;
  await new Promise<void>((resolve) => process.once('beforeExit', () => resolve()));
  return value;
}

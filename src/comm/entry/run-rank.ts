/**
 * What every rank does, whatever its transport: install the world communicator, run the
 * program, finish its sends, and report the result or the failure to the host, then exit.
 * An error anywhere in the rank, caught or not, ends the rank: the host stops the others.
 */
import * as path from 'node:path';
import { ensureSerialRuntime } from '../../parallel/runtime/serial-runtime.js';
import { serializeError, type SerializedError } from '../../util/remote-error.js';
import { Communicator } from '../communicator.js';
import { Errors } from '../errors.js';
import { toHost, type RankProgram, type ToHost } from '../messages.js';
import type { Transport } from '../transport.js';
import { installWorld } from '../world.js';
import { installPackageAlias } from './package-alias.js';
import { loadProgram } from './program.js';
import { runSessionRank } from '../session/rank-loop.js';

export interface RankChannel {
  /** Hands a message to the host; resolves once it is out of this rank (so the rank may exit). */
  send(message: ToHost): Promise<void> | void;
  /** Ends the rank (thread or process) with `code`, after its output is flushed. */
  exit(code: number): never;
  /** Calls `listener` with every message the host sends later (sessions); keeps the rank alive. */
  receive?(listener: (message: unknown) => void): void;
}

export async function runRank(transport: Transport, program: RankProgram, channel: RankChannel): Promise<void> {
  process.setSourceMapsEnabled(true);
  installPackageAlias();
  // A %%parallel function called in a rank runs its loops serially there.
  ensureSerialRuntime();
  const comm = Communicator.world(transport);
  installWorld(comm);
  if (program.kind === 'session') return runSessionRank(comm, channel, transport);
  let mapStack = (stack: string): string => stack;
  let reported = false;

  const fail = async (err: unknown): Promise<void> => {
    if (reported) return;
    reported = true;
    const error: SerializedError = serializeError(err);
    await channel.send(toHost('failure', { error: { ...error, stack: error.stack && userFrames(mapStack(error.stack)) } }));
    await flushOutput();
    channel.exit(1);
  };
  process.on('uncaughtException', (err) => void fail(err));
  process.on('unhandledRejection', (err) => void fail(err));

  try {
    const loaded = loadProgram(program);
    mapStack = loaded.mapStack;
    const value = await loaded.run(comm);
    await transport.finalize();
    if (reported) return;
    reported = true;
    try {
      await channel.send(toHost('result', { value }));
    } catch (err) {
      reported = false;
      return fail(Errors.NotCloneable(err));
    }
    await flushOutput();
    channel.exit(0);
  } catch (err) {
    await fail(err);
  }
}

const kOwnDir = path.resolve(__dirname, '..');

/** The stack without frames of this package's rank machinery or of Node itself: users see their code. */
export function userFrames(stack: string): string {
  return stack
    .split('\n')
    .filter((line) => !/^\s+at /.test(line) || !(line.includes(kOwnDir) || line.includes('(node:') || /at node:/.test(line)))
    .join('\n');
}

/** Resolves once everything written to stdout and stderr so far has been handed on. */
export function flushOutput(): Promise<unknown> {
  const flush = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write('', () => resolve()));
  return Promise.all([flush(process.stdout), flush(process.stderr)]);
}

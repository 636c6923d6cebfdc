/**
 * What a session rank does (the rank side of session.ts): it stays up with its world
 * communicator and its scope, and runs each cell the host sends. A cell that throws, on this
 * rank or in a callback it left behind, fails that cell, not the rank; a cancelled cell is
 * abandoned where it waits (its promise is dropped) and the rank is ready for the next one.
 */
import { loadShipment, mapShippedStack } from '../../ship/load.js';
import { serializeError } from '../../util/remote-error.js';
import type { Communicator } from '../communicator.js';
import { Errors } from '../errors.js';
import { flushOutput, userFrames, type RankChannel } from '../entry/run-rank.js';
import { cellEndMarker, isSessionMessage, sessionMessage, type FromSessionRank, type ToSessionRank } from './protocol.js';
import { traceRank, type RankTrace } from '../../trace/comm-rank.js';
import type { Transport } from '../transport.js';
import { CellReceives } from './receives.js';
import { bindScope, createScope } from './scope.js';

type CellMessage = Extract<ToSessionRank, { type: 'session-cell' }>;
type Outcome = { values: Record<string, unknown>; missing: string[] } | { error: unknown } | { stopped: true };

export function runSessionRank(comm: Communicator, channel: RankChannel, transport: Transport): void {
  const scope = createScope(comm);
  const receives = new CellReceives(transport);
  let current: { id: number; settle: (o: Outcome) => void } | undefined;
  const stray = (err: unknown) => {
    if (current) current.settle({ error: err });
    else process.stderr.write(`${userFrames(mapShippedStack(String((err as Error)?.stack ?? err)))}\n`);
  };
  process.on('uncaughtException', stray);
  process.on('unhandledRejection', stray);

  const send = (m: FromSessionRank) => channel.send(m as never);
  const run = async (m: CellMessage): Promise<void> => {
    let tracer: { stop(): RankTrace } | undefined;
    const outcome = await new Promise<Outcome>((settle) => {
      let settled = false;
      const cell = { id: m.id, settle: (o: Outcome) => void (settled || ((settled = true), settle(o))) };
      current = cell;
      // In a task of its own: a busy cell cut off by the inspector (threads) unwinds only that task.
      setImmediate(() => void (async (): Promise<Outcome> => {
        if (m.traceAs !== undefined) {
          const started = await traceRank(comm);
          if (settled) {
            started.stop(); // dropped meanwhile: leave the transport as it was
            return { stopped: true } as const;
          }
          tracer = started;
        }
        const entries = loadShipment(m.shipment);
        bindScope(entries.scope!() as Record<string, unknown>, scope);
        Object.assign(scope, m.inputs);
        await entries.rank!();
        const values: Record<string, unknown> = {};
        const missing: string[] = [];
        for (const name of m.outs) {
          if (name in scope) values[name] = scope[name];
          else missing.push(name);
        }
        return { values, missing };
      })().then(
        (o) => cell.settle(o),
        (error: unknown) => cell.settle({ error }),
      ));
    });
    current = undefined;
    // The transport is unwrapped whatever the outcome; a finished cell sends its trace back.
    const trace = tracer?.stop();
    if (trace && 'values' in outcome) outcome.values[m.traceAs!] = trace;
    // A dropped cell's receives must not catch the next cell's messages, nor its collectives
    // still waiting hold up the next cell's (CommCore.inTurn).
    if ('values' in outcome) receives.keep();
    else {
      receives.withdraw();
      comm.core.abandonTurns();
    }
    await flushOutput();
    process.stdout.write(`${cellEndMarker(m.id)}\n`);
    process.stderr.write(`${cellEndMarker(m.id)}\n`);
    if ('stopped' in outcome) return void (await send(sessionMessage('session-stopped', { id: m.id })));
    if ('error' in outcome) return void (await send(failed(m.id, outcome.error)));
    try {
      await send(sessionMessage('session-done', { id: m.id, values: outcome.values, missing: outcome.missing }));
    } catch (err) {
      await send(failed(m.id, Errors.NotCloneable(err)));
    }
  };

  let queue = Promise.resolve();
  if (!channel.receive) throw new Error('this rank cannot receive cells: a session needs a launcher that talks to it (threads, processes or mpi)');
  channel.receive((m) => {
    if (!isSessionMessage(m)) return;
    if (m.type === 'session-cancel') {
      if (current?.id === m.id) current.settle({ stopped: true });
    } else if (m.type === 'session-cell') {
      queue = queue.then(() => run(m));
    }
  });
  void send(sessionMessage('session-ready', {}));
}

function failed(id: number, err: unknown): FromSessionRank {
  const error = serializeError(err);
  return sessionMessage('session-failed', { id, error: { ...error, stack: error.stack && userFrames(mapShippedStack(error.stack)) } });
}

/**
 * Entry of a rank thread (loaded by path by threads/host.ts, never imported by the main side).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toHost, type RankProgram } from '../messages.js';
import type { ThreadsWorld } from '../threads/layout.js';
import { ThreadsTransport } from '../threads/transport.js';
import { runRank, type RankChannel } from './run-rank.js';

export interface ThreadRankData {
  readonly rank: number;
  readonly world: ThreadsWorld;
  readonly program: RankProgram;
}

const data = workerData as ThreadRankData;
const channel: RankChannel = {
  send: (message) => parentPort!.postMessage(message),
  exit: (code) => process.exit(code),
  receive: (listener) => void parentPort!.on('message', listener),
};
const transport = new ThreadsTransport(data.world, data.rank, {
  abort(code) {
    channel.send(toHost('abort', { code }));
    return process.exit(code);
  },
});
void runRank(transport, data.program, channel);

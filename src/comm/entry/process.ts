/**
 * Entry of a rank process (forked by processes/host.ts, never imported by the main side).
 * It ignores SIGINT (Jupyter interrupts the kernel's whole process group; the kernel decides
 * what stops) and exits when its parent goes away (the IPC channel disconnects).
 */
import * as fs from 'node:fs';
import { serializeError } from '../../util/remote-error.js';
import { kEnvName, kMessageTag, toHost, type ProcessRankEnv, type RankProgram, type ToHost } from '../messages.js';
import { mapSharedWorld } from '../processes/map-shared-world.js';
import { ProcessesTransport } from '../processes/transport.js';
import { runRank, type RankChannel } from './run-rank.js';

const { rank, size, dir, shared } = JSON.parse(process.env[kEnvName] ?? '{}') as ProcessRankEnv;
delete process.env[kEnvName]; // programs this rank starts are not ranks

process.on('SIGINT', () => {});
process.on('disconnect', () => {
  // The parent is gone (killed, perhaps): nobody else will remove the run's socket directory.
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {} // another rank removing it at the same time
  process.exit(1);
});

const send = (message: ToHost) =>
  new Promise<void>((resolve, reject) => process.send!(message, undefined, {}, (err) => (err ? reject(err) : resolve())));
const channel: RankChannel = {
  send,
  exit: (code) => process.exit(code),
  receive(listener) {
    process.channel?.ref(); // a session rank lives until its host closes it
    process.on('message', listener);
  },
};
const transport = new ProcessesTransport(rank, size, dir, {
  state: (blocked, waitingIn) => void send(toHost('state', { blocked, waitingIn })),
  abort(code) {
    void send(toHost('abort', { code }));
    return process.exit(code);
  },
}, shared && mapSharedWorld(shared));

process.on('message', function onStart(m: { [kMessageTag]?: true; type?: string; program?: RankProgram }) {
  if (m?.[kMessageTag] !== true || m.type !== 'start') return;
  process.off('message', onStart);
  process.channel?.unref(); // the rank ends when its program does, not when the host stops talking
  void transport.connect().then(
    () => runRank(transport, m.program!, channel),
    (err: unknown) => {
      void send(toHost('failure', { error: serializeError(err) })).finally(() => process.exit(1));
    },
  );
});
void transport.listen().then(() => send(toHost('ready', {})));

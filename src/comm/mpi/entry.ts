/**
 * Entry of a rank that the 'mpi' backend's launcher (host.ts) started under mpirun; never
 * imported by the launcher side. The rank starts MPI, connects back to the launcher over the
 * control channel, sends its output there, and runs the program the launcher sends.
 *
 * A failing rank reports its error and calls MPI_Abort once the launcher has collected the
 * failures of the ranks failing with it: when the launcher closes the connection to stop the
 * run, or after a grace period if it does not.
 */
import * as net from 'node:net';
import * as os from 'node:os';
import { Errors } from '../errors.js';
import { kMessageTag, toHost, type RankProgram, type ToHost } from '../messages.js';
import { runRank, type RankChannel } from '../entry/run-rank.js';
import { ControlConnection, hostPort, kControlVariable, parseAddress, unreachableLine, type HostSays, type RankSays } from './control.js';
import { startRank } from './start.js';

/** How long a failed rank waits for the launcher's stop before it calls MPI_Abort anyway. */
const kAbortFallbackMs = 2000;
/** How long a rank tries each of the launcher's addresses (a firewall that drops would hang for minutes). */
const kConnectTimeoutMs = 5000;
/** The code a failed rank aborts with, once it may. */
let failedWith = 0;

const address = parseAddress(process.env[kControlVariable] ?? '');
delete process.env[kControlVariable]; // programs this rank starts are not ranks
if (!address) {
  process.stderr.write(`this program is started by the 'mpi' backend's launcher (${kControlVariable} is not set); use tslab-parallel rank FILE under mpirun instead\n`);
  process.exit(2);
}

let control: ControlConnection<HostSays, RankSays> | undefined;
let programKind: RankProgram['kind'] | undefined;
/** A result or failure went to the launcher. */
let reported = false;
const tell = (message: ToHost): void => void control?.send(message).catch(() => {});

const rank = startRank({
  state: (blocked, waitingIn) => tell(toHost('state', { blocked, waitingIn })),
  // comm.abort(code): the launcher hears it first (the write goes out at once), then MPI_Abort.
  abort: (code) => tell(toHost('abort', { code })),
  exiting(code) {
    // process.exit(0) ends a script normally (as under mpirun: MPI_Finalize waits for the others);
    // any other exit is the rank's failure, as on the other backends.
    if (code === 0 && programKind === 'script') {
      tell(toHost('state', { blocked: true, waitingIn: 'MPI_Finalize after process.exit(0), for the other ranks to finish' }));
      return 0;
    }
    if (!reported) tell(toHost('failure', { error: Errors.RankExited(`exit code ${code}`) }));
    return code || 1;
  },
});
const { transport } = rank;

/** Output goes to the launcher whole, in order with results and failures. */
function forwardOutput(to: ControlConnection<HostSays, RankSays>): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    const target = process[stream];
    // mpirun gives ranks a terminal; the output ends up in a notebook: no colour codes.
    target.isTTY = false;
    target.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), callback?: (err?: Error | null) => void) => {
      const done = typeof encoding === 'function' ? encoding : callback;
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8');
      to.send({ type: 'output', stream, text }).then(() => done?.(), (err: Error) => done?.(err));
      return true;
    }) as typeof target.write;
  }
}

/** Connects to the first of the launcher's addresses that answers; rejects with what each said. */
async function connectBack(hosts: readonly string[], port: number): Promise<net.Socket> {
  const tried: string[] = [];
  for (const host of hosts) {
    const socket = net.connect(port, host);
    let timer: NodeJS.Timeout | undefined;
    const why = await new Promise<string | undefined>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${kConnectTimeoutMs / 1000} s`), kConnectTimeoutMs);
      socket.once('connect', () => resolve(undefined));
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    clearTimeout(timer);
    if (why === undefined) return socket;
    socket.destroy();
    tried.push(`${hostPort(host, port)} (${why})`);
  }
  throw new Error(tried.join(', '));
}

/** The connection to the launcher, once made. */
let socket: net.Socket | undefined;

connectBack(address.hosts, address.port).then(
  (connected) => {
    socket = connected;
    connected.on('error', () => {}); // the close below says it
    connected.once('close', () => {
      // The launcher stops the run (or is gone): MPI_Abort ends every rank, on every host.
      process.stderr.write = (() => true) as typeof process.stderr.write;
      rank.end(failedWith || 1);
    });
    control = new ControlConnection<HostSays, RankSays>(connected, (m) => {
      if (m[kMessageTag] !== true) return;
      if (m.type !== 'start') return listeners.forEach((listener) => listener(m));
      connected.unref(); // from now on the rank's own work keeps it alive, not the connection
      programKind = m.program.kind;
      void runRank(transport, m.program, channel);
    });
    forwardOutput(control);
    void control.send({ type: 'hello', rank: transport.rank, size: transport.size, token: address.token, host: os.hostname(), pid: process.pid });
  },
  (err: Error) => {
    // mpirun brings this line back to the launcher, which explains it; then every rank stops.
    process.stderr.write(`${unreachableLine(transport.rank, os.hostname(), err.message)}\n`);
    rank.end(1);
  },
);

/** A session rank's listeners for the launcher's later messages (its cells). */
const listeners: ((message: unknown) => void)[] = [];

const channel: RankChannel = {
  receive(listener) {
    socket?.ref(); // a session rank lives until the launcher closes the connection
    listeners.push(listener);
  },
  send(message: ToHost) {
    if (message.type === 'result' || message.type === 'failure') reported = true;
    return control!.send(message);
  },
  exit(code: number): never {
    if (code === 0) return rank.end(0);
    // Abort when the launcher closes the connection (above), having heard from the others too.
    failedWith = code;
    setTimeout(() => rank.end(code), kAbortFallbackMs);
    return undefined as never;
  },
};

process.on('SIGINT', () => {}); // interrupts are the launcher's to decide

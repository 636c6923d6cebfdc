/**
 * The 'mpi' backend, launcher side: one `mpirun` for the world, each rank a Node process running
 * entry.js that connects back over the control channel (control.ts) for its program, and sends
 * back its output, result or failure. The launcher never loads MPI itself.
 *
 * Stopping (a failure, comm.abort, a deadlock, an interrupt): the control connections close,
 * and every rank whose event loop is free calls MPI_Abort, which ends the job on every host; if
 * mpirun is still there a moment later (a rank busy in a loop), SIGTERM to mpirun does the
 * same; whatever is left of its session here after a grace period is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import type { RankEvents, RankHost, RankState } from '../host.js';
import { kMessageTag, type RankProgram, type ToRank } from '../messages.js';
import { LineBuffer } from '../output.js';
import { ControlConnection, formatAddress, hostPort, kControlVariable, parseUnreachable, type HostSays, type RankSays } from './control.js';
import { planControl, type ControlPlan } from './control-hosts.js';
import { MpiErrors } from './errors.js';
import { findLauncher, launcherArgs, type MpiLaunchOptions } from './launcher-command.js';
import { addonBuilt, addonPath } from './native.js';
import { killSession } from './session.js';

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** How long ranks may take to start and report in (mpirun, Node and MPI_Init on every host). */
const kStartTimeoutS = Number(process.env.TSLAB_PARALLEL_MPI_START_TIMEOUT) || 60;
/** After the connections close, how long the ranks have to MPI_Abort before mpirun gets SIGTERM. */
const kAbortGraceMs = 300;
/** After SIGTERM, how long mpirun has to end the job before its session is killed. */
const kTermGraceMs = 1500;
/** Ranks that mpirun took down because another failed are reported after the culprit (and after the launcher's grace). */
const kCollateralDelayMs = 700;
/** Lines of mpirun's own output kept for error messages. */
const kLauncherLines = 40;

interface RankSlot {
  connection: ControlConnection<RankSays, HostSays> | undefined;
  readonly out: LineBuffer;
  readonly err: LineBuffer;
  state: { blocked: boolean; waitingIn: string; wakes: number };
  /** Sent a result, a failure or an abort. */
  reported: boolean;
  exited: boolean;
  closed: Promise<void>;
  closedAt: number;
  /** The rank's hostname and process id (on that host), as it said in its hello. */
  host: string;
  pid: number | undefined;
}

export class MpiRanks implements RankHost {
  readonly #np: number;
  readonly #program: RankProgram;
  readonly #events: RankEvents;
  readonly #options: MpiLaunchOptions;
  readonly #ranks: RankSlot[];
  readonly #launcherOutput: string[] = [];
  /** Ranks that said they could not connect back (their lines in mpirun's output). */
  readonly #unreachable: { rank: number; host: string; tried: string }[] = [];
  /** What the ranks were told to connect to, and why, for error messages. */
  #given = { address: '', why: '' };
  /** The ranks run on more than one host: failures say which. */
  #manyHosts = false;
  #server: net.Server | undefined;
  #child: ChildProcess | undefined;
  #childExit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  #anyFailure = false;
  #connected = 0;
  #starting: { resolve: () => void; reject: (err: Error) => void } | undefined;
  #stopping: Promise<void> | undefined;

  constructor(np: number, program: RankProgram, events: RankEvents, options: MpiLaunchOptions = {}) {
    this.#np = np;
    this.#program = program;
    this.#events = events;
    this.#options = options;
    this.#ranks = Array.from({ length: np }, () => ({
      connection: undefined,
      out: new LineBuffer(),
      err: new LineBuffer(),
      state: { blocked: false, waitingIn: '', wakes: 0 },
      reported: false,
      exited: false,
      closed: Promise.resolve(),
      closedAt: Infinity,
      host: '',
      pid: undefined,
    }));
  }

  async start(): Promise<void> {
    const launcher = await findLauncher(this.#options.mpirun);
    // stop() may come while start() awaits (an interrupt during start-up): start nothing then.
    if (this.#stopping) return;
    if (!addonBuilt()) throw MpiErrors.AddonMissing(addonPath());
    const token = randomBytes(16).toString('hex');
    const cwd = this.#program.kind === 'shipment' ? this.#program.shipment.cwd : this.#program.cwd;
    const plan: ControlPlan = await planControl(this.#options, cwd);
    if (this.#stopping) return;
    const server = (this.#server = net.createServer((socket) => this.#accept(socket, token)));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Ranks on other hosts connect over the network; local ones over loopback only.
      server.listen(plan.port, plan.listen, () => resolve());
    });
    if (this.#stopping) {
      server.close();
      return;
    }
    const port = (server.address() as net.AddressInfo).port;
    this.#given = { address: plan.hosts.map((h) => hostPort(h, port)).join(' or '), why: plan.why };
    const started = new Promise<void>((resolve, reject) => (this.#starting = { resolve, reject }));
    const child = (this.#child = spawn(launcher.command, launcherArgs(launcher, this.#np, this.#options), {
      detached: true, // a session of its own: stop() finds every process of the run by it
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, [kControlVariable]: formatAddress({ hosts: plan.hosts, port, token }) },
      cwd,
    }));
    this.#childExit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.on('error', () => {}); // the exit below reports it
    for (const stream of [child.stdout!, child.stderr!]) {
      const lines = new LineBuffer();
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => this.#launcherSaid(lines.push(chunk)));
      stream.once('end', () => this.#launcherSaid(lines.flush()));
    }
    void this.#childExit.then((how) => this.#launcherExited(how.code, how.signal));
    const timer = setTimeout(() => this.#starting?.reject(MpiErrors.StartTimeout(kStartTimeoutS, this.#connected, this.#np, this.#given.address, this.#given.why)), kStartTimeoutS * 1000);
    try {
      await started;
    } finally {
      clearTimeout(timer);
      this.#starting = undefined;
    }
    this.#manyHosts = new Set(this.#ranks.map((s) => s.host)).size > 1;
    const start: ToRank = { [kMessageTag]: true, type: 'start', program: this.#program };
    for (const slot of this.#ranks) void slot.connection!.send(start).catch(() => {});
  }

  #launcherSaid(text: string): void {
    if (!text) return;
    const lines = text.replace(/\n$/, '').split('\n');
    for (const line of lines) {
      const unreachable = parseUnreachable(line);
      if (unreachable) this.#unreachable.push(unreachable);
    }
    this.#launcherOutput.push(...lines);
    this.#launcherOutput.splice(0, Math.max(0, this.#launcherOutput.length - kLauncherLines));
  }

  /** A rank connects: it must open with the run's token. */
  #accept(socket: net.Socket, token: string): void {
    socket.on('error', () => {}); // a rank that went away: its exit says why
    let slot: RankSlot | undefined;
    let rank = -1;
    const connection = new ControlConnection<RankSays, HostSays>(socket, (m) => {
      if (!slot) {
        if (m.type !== 'hello' || m.token !== token || !(m.rank >= 0 && m.rank < this.#np) || this.#ranks[m.rank]!.connection) {
          socket.destroy();
          return;
        }
        rank = m.rank;
        slot = this.#ranks[rank]!;
        slot.connection = connection;
        slot.host = m.host ?? '';
        slot.pid = m.pid;
        slot.closed = new Promise((resolve) => socket.once('close', () => resolve()));
        void slot.closed.then(() => (slot!.closedAt = Date.now()));
        if (++this.#connected === this.#np) this.#starting?.resolve();
        return;
      }
      this.#message(rank, slot, m);
    });
  }

  #message(rank: number, slot: RankSlot, m: RankSays): void {
    const events = this.#events;
    switch (m.type) {
      case 'output': {
        const text = (m.stream === 'stdout' ? slot.out : slot.err).push(m.text);
        if (text) events.output(rank, m.stream, text);
        break;
      }
      case 'result':
        slot.reported = true;
        events.result(rank, m.value);
        break;
      case 'failure':
        slot.reported = true;
        this.#anyFailure = true;
        events.failure(rank, this.#manyHosts ? { ...m.error, message: `${m.error.message}${this.#onHost(slot)}` } : m.error);
        break;
      case 'abort':
        slot.reported = true;
        this.#anyFailure = true;
        events.aborted(rank, m.code);
        break;
      case 'state':
        if (!m.blocked) slot.state.wakes++;
        slot.state.blocked = m.blocked;
        slot.state.waitingIn = m.waitingIn;
        break;
      default:
        if (m.type !== 'hello') events.message?.(rank, m);
    }
  }

  /** mpirun ended: every rank is gone once its connection has delivered its last words. */
  async #launcherExited(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (this.#starting) {
      const said = this.#launcherOutput.join('\n');
      this.#starting.reject(
        this.#unreachable.length > 0
          ? MpiErrors.ControlUnreachable(this.#unreachable, this.#given.address, this.#given.why)
          : /run as root|allow-run-as-root/i.test(said)
            ? MpiErrors.RunAsRoot()
            : MpiErrors.LauncherFailed(code, signal, said),
      );
    }
    // Remote ranks' connections may outlive mpirun by a moment; don't wait on dead ones forever.
    await Promise.race([Promise.all(this.#ranks.map((s) => s.closed)), new Promise((r) => setTimeout(r, 2000).unref())]);
    for (const slot of this.#ranks) {
      slot.connection?.socket.destroy();
      this.#flush(this.#ranks.indexOf(slot), slot);
    }
    const clean = code === 0;
    const how = clean ? 'exit code 0' : signal ? `mpirun was killed by ${signal}` : `mpirun exited with code ${code}`;
    // The rank whose end made mpirun stop the job is the one to report; the others follow later.
    const silent = this.#ranks.map((s, rank) => ({ s, rank })).filter(({ s }) => !s.reported);
    const culprit = clean || this.#anyFailure ? undefined : silent.sort((a, b) => a.s.closedAt - b.s.closedAt)[0];
    const later: number[] = [];
    this.#ranks.forEach((slot, rank) => {
      if (slot.reported || clean || (culprit && culprit.rank === rank)) this.#exited(rank, how, clean);
      else later.push(rank);
    });
    if (later.length > 0) setTimeout(() => later.forEach((rank) => this.#exited(rank, how, clean)), kCollateralDelayMs).unref();
  }

  #flush(rank: number, slot: RankSlot): void {
    const out = slot.out.flush();
    if (out) this.#events.output(rank, 'stdout', out);
    const err = slot.err.flush();
    if (err) this.#events.output(rank, 'stderr', err);
  }

  #exited(rank: number, how: string, clean: boolean): void {
    const slot = this.#ranks[rank]!;
    if (slot.exited) return;
    slot.exited = true;
    this.#events.exited(rank, clean || !this.#manyHosts || !slot.host ? how : `${how}; it ran on ${slot.host}`, clean);
  }

  #onHost(slot: RankSlot): string {
    return slot.host ? ` (on ${slot.host})` : '';
  }

  states(): RankState[] {
    return this.#ranks.map((s) => ({ ...s.state }));
  }

  post(rank: number, message: object): boolean {
    const connection = this.#ranks[rank]?.connection;
    if (!connection || connection.socket.destroyed) return false;
    connection.send(message as HostSays).catch(() => {});
    return true;
  }

  /** Each rank's pid and host (%mpirun status), as its hello said; mpirun's pid until then. */
  where(): string[] {
    return this.#ranks.map((s) => (s.pid === undefined ? `under mpirun pid ${this.#child?.pid ?? '?'}` : `pid ${s.pid} on ${s.host || '?'}`));
  }

  stop(): Promise<void> {
    return (this.#stopping ??= this.#stop());
  }

  async #stop(): Promise<void> {
    this.#server?.close();
    for (const slot of this.#ranks) slot.connection?.socket.destroy(); // ranks that can: MPI_Abort
    const child = this.#child;
    if (child?.pid === undefined) return;
    const pid = child.pid;
    const running = () => child.exitCode === null && child.signalCode === null;
    const exited = this.#childExit!;
    if (running()) await Promise.race([exited, delay(kAbortGraceMs)]);
    if (running()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    const kill = setTimeout(() => killSession(pid), kTermGraceMs);
    await exited;
    clearTimeout(kill);
    killSession(pid); // anything the ranks left behind
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
}

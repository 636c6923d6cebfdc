/**
 * The processes backend, launcher side: one child process per rank (what the lecture means by
 * separate instances), each the leader of its own process group so that stopping a rank also
 * stops whatever it started. The ranks' sockets live in a private temp directory, removed
 * with everything else by stop(). When the shm addon is built, the ranks also share memory: a
 * file made in /dev/shm and unlinked at once, before any rank starts (so nothing is left
 * whatever dies), passed to every rank as an open file descriptor.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { OutputStream, RankEvents, RankHost, RankState } from '../host.js';
import { isHostMessage, kEnvName, kMessageTag, type ProcessRankEnv, type RankProgram, type ToRank } from '../messages.js';
import { LineBuffer } from '../output.js';
import { defaultSpinMicros } from '../threads/host.js';
import { kSharedFd, sharedWorld, type SharedWorld } from './shared-layout.js';
import { shmAddonBuilt } from '../../util/shm-addon.js';

const kEntry = path.join(__dirname, '..', 'entry', 'process.js');

/** Private temp directories of this process's runs start with this (tests count them). */
export function tempDirPrefix(): string {
  return path.join(os.tmpdir(), `tslab-parallel-comm-${process.pid}-`);
}

/**
 * The world's shared file, open and already unlinked: only the ranks' descriptors and mappings
 * keep it, so it goes when the last of them does. Undefined when it cannot be made (sockets only).
 */
function sharedFile(world: SharedWorld, fallbackDir: string): { world: SharedWorld; fd: number } | undefined {
  const dir = fsSync.existsSync('/dev/shm') ? '/dev/shm' : fallbackDir;
  // (The tests look for leftovers by this name.)
  const file = path.join(dir, `tslab-parallel-shm-${process.pid}-${randomBytes(6).toString('hex')}`);
  let fd: number | undefined;
  try {
    fd = fsSync.openSync(file, 'wx+', 0o600);
    fsSync.unlinkSync(file);
    // Written, not only truncated: a full /dev/shm (64 MiB in a default container) fails here,
    // with ENOSPC, rather than as a SIGBUS in a rank that touches a page there is no room for.
    const zeros = Buffer.alloc(Math.min(world.bytes, 1 << 20));
    for (let at = 0; at < world.bytes; at += zeros.length) fsSync.writeSync(fd, zeros, 0, Math.min(zeros.length, world.bytes - at), at);
    return { world, fd };
  } catch {
    if (fd !== undefined) fsSync.closeSync(fd);
    fsSync.rmSync(file, { force: true });
    return undefined;
  }
}

export class ProcessRanks implements RankHost {
  readonly #np: number;
  readonly #program: RankProgram;
  readonly #events: RankEvents;
  readonly #children: ChildProcess[] = [];
  readonly #gone: Promise<void>[] = [];
  readonly #states: { blocked: boolean; waitingIn: string; wakes: number }[];
  readonly #spinMicros: number;
  #dir: string | undefined;
  #stopping: Promise<void> | undefined;

  constructor(np: number, program: RankProgram, events: RankEvents, spinMicros = defaultSpinMicros(np)) {
    this.#np = np;
    this.#spinMicros = spinMicros;
    this.#program = program;
    this.#events = events;
    this.#states = Array.from({ length: np }, () => ({ blocked: false, waitingIn: '', wakes: 0 }));
  }

  async start(): Promise<void> {
    const dir = await fs.mkdtemp(tempDirPrefix()); // mkdtemp makes it 0700
    if (this.#stopping) return fs.rm(dir, { recursive: true, force: true }); // stopped while we waited
    this.#dir = dir;
    const ready: Promise<void>[] = [];
    const shared = this.#np > 1 && shmAddonBuilt() ? sharedFile(sharedWorld(this.#np, this.#spinMicros), dir) : undefined;
    const stdio: ('ignore' | 'pipe' | 'ipc' | number)[] = ['ignore', 'pipe', 'pipe', 'ipc'];
    if (shared) stdio[kSharedFd] = shared.fd;
    try {
      for (let rank = 0; rank < this.#np; rank++) {
        const env: ProcessRankEnv = { rank, size: this.#np, dir, shared: shared?.world };
        const child = fork(kEntry, [], {
          detached: true,
          stdio,
          serialization: 'advanced',
          execArgv: [],
          env: { ...process.env, [kEnvName]: JSON.stringify(env) },
          cwd: this.#program.kind === 'shipment' ? this.#program.shipment.cwd : this.#program.cwd,
        });
        this.#children.push(child);
        ready.push(this.#watch(rank, child));
      }
    } finally {
      if (shared) fsSync.closeSync(shared.fd); // the ranks hold it now
    }
    await Promise.all(ready);
    if (this.#stopping) return;
    const start: ToRank = { [kMessageTag]: true, type: 'start', program: this.#program };
    for (const child of this.#children) child.send(start);
  }

  /** Wires up one child; resolves when it listens, rejects if it dies first. */
  #watch(rank: number, child: ChildProcess): Promise<void> {
    const events = this.#events;
    const state = this.#states[rank]!;
    let listening!: () => void;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    child.on('message', (m: unknown) => {
      if (!isHostMessage(m)) return;
      if (m.type === 'ready') listening();
      else if (m.type === 'result') events.result(rank, m.value);
      else if (m.type === 'failure') events.failure(rank, m.error);
      else if (m.type === 'abort') events.aborted(rank, m.code);
      else if (m.type === 'state') {
        if (!m.blocked) state.wakes++;
        state.blocked = m.blocked;
        state.waitingIn = m.waitingIn;
      } else events.message?.(rank, m);
    });
    child.on('error', () => {}); // spawn/IPC errors surface as the exit below
    this.#pipe(rank, 'stdout', child.stdout!);
    this.#pipe(rank, 'stderr', child.stderr!);
    const closed = new Promise<void>((resolve) => {
      // 'close' comes after the exit and after both output pipes have ended.
      child.once('close', (code, signal) => {
        events.exited(rank, signal ? `killed by ${signal}` : `exit code ${code}`, code === 0);
        resolve();
      });
    });
    this.#gone.push(closed);
    return Promise.race([ready, closed.then(() => Promise.reject(new Error(`rank ${rank} exited while starting`)))]);
  }

  #pipe(rank: number, stream: OutputStream, readable: NodeJS.ReadableStream): void {
    const lines = new LineBuffer();
    readable.setEncoding('utf8');
    readable.on('data', (chunk: string) => {
      const text = lines.push(chunk);
      if (text) this.#events.output(rank, stream, text);
    });
    readable.once('end', () => {
      const rest = lines.flush();
      if (rest) this.#events.output(rank, stream, rest);
    });
  }

  states(): RankState[] {
    return this.#states.map((s) => ({ ...s }));
  }

  post(rank: number, message: object): boolean {
    const child = this.#children[rank];
    if (!child?.connected) return false;
    child.send(message);
    return true;
  }

  where(): string[] {
    return this.#children.map((c) => `pid ${c.pid}`);
  }

  stop(): Promise<void> {
    return (this.#stopping ??= this.#stop());
  }

  async #stop(): Promise<void> {
    for (const child of this.#children) {
      // The whole group: the rank and anything it started. Ranks that already exited may
      // have left children behind; ESRCH just means there is nothing left.
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }
    await Promise.all(this.#gone);
    if (this.#dir) await fs.rm(this.#dir, { recursive: true, force: true });
  }
}

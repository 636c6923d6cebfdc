/**
 * The 'mpi' backend's launcher (runRanks over a real mpirun): mpirun's arguments and hostfiles,
 * launcher errors told in the user's terms, waits that never block the event loop nor sit in
 * libuv's thread pool, and — after success, failure, abort, deadlock, an aborted signal or a
 * kernel interrupt — no process of the run left: mpirun runs as a session leader, so every
 * process it started here keeps its session id, which /proc shows.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRanks, type RankFunction, type RunRanksOptions } from '../dist/src/comm/index.js';
import { sessionMembers } from '../dist/src/comm/mpi/session.js';
import { notifyKernelInterrupt } from '../dist/src/util/interrupt.js';
import { mpiUnavailable } from './fixtures/comm/backends.js';
import { expectNoLeaks, resources, type Resources } from './fixtures/comm/leaks.js';
import { descendants } from './helpers/process-tree.js';

type Comm = Parameters<RankFunction>[0];

/** Sessions of the mpiruns this process started during a run (polled from /proc while it runs). */
function watchMpiruns(): { stop(): number[] } {
  const seen = new Set<number>();
  const look = () => descendants(process.pid).filter((p) => /mpirun/.test(p.command)).forEach((p) => seen.add(p.pid));
  const timer = setInterval(look, 20);
  return {
    stop() {
      clearInterval(timer);
      look();
      return [...seen];
    },
  };
}

async function leftOver(sessions: number[]): Promise<number[]> {
  let left = sessions.flatMap(sessionMembers);
  for (let i = 0; i < 60 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    left = sessions.flatMap(sessionMembers);
  }
  return left;
}

/**
 * Runs the ranks, then checks that mpirun and everything it started are gone. (An mpirun that
 * exits at once, refusing its arguments, may come and go between two looks: `quick`.)
 */
async function run<R>(options: Omit<RunRanksOptions, 'backend'>, quick = false): Promise<{ values?: R[]; error?: Error }> {
  const watch = watchMpiruns();
  let outcome: { values?: R[]; error?: Error };
  try {
    outcome = { values: await runRanks<R>({ onOutput: () => {}, ...options, backend: 'mpi' }) };
  } catch (error) {
    outcome = { error: error as Error };
  }
  const sessions = watch.stop();
  if (!quick) expect(sessions.length).toBeGreaterThan(0);
  expect(await leftOver(sessions)).toEqual([]);
  return outcome;
}

const code = (f: (comm: Comm, rank: number, size: number) => unknown) => f as RankFunction;

describe.skipIf(mpiUnavailable)('mpi launcher', () => {
  let dir: string;
  let before: Resources;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tslab-mpi-launch-'));
    await run({ np: 2, code: code((comm) => comm.barrier()) });
    before = resources();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => expectNoLeaks(before));

  it('passes --mpirun-args to mpirun (here: an environment variable for the ranks)', async () => {
    const { values } = await run<string>({ np: 2, code: code(() => process.env.TSLAB_MPI_TEST_VALUE), mpi: { mpirunArgs: ['-x', 'TSLAB_MPI_TEST_VALUE=from-mpirun'] } });
    expect(values).toEqual(['from-mpirun', 'from-mpirun']);
  });

  it('runs the ranks on the hosts of a hostfile', async () => {
    const hostfile = path.join(dir, 'hosts');
    fs.writeFileSync(hostfile, 'localhost slots=3\n');
    const { values } = await run<number>({ np: 3, code: code((comm) => comm.allreduce(comm.rank)), mpi: { hostfile } });
    expect(values).toEqual([3, 3, 3]);
  });

  it('an mpirun that refuses its arguments is reported with what it said', async () => {
    const { error } = await run({ np: 2, code: code(() => 1), mpi: { mpirunArgs: ['--no-such-option-here'] } }, true);
    expect(error?.message).toMatch(/^could not start the ranks on \{ backend: 'mpi' \}: mpirun exited with code \d+ before every rank had started; it said:\n/);
    expect(error?.message).toContain('--no-such-option-here');
  });

  it('many waits at once neither block the event loop nor use libuv’s thread pool', async () => {
    const { values } = await run<number[]>({
      np: 2,
      code: code(async (comm, rank) => {
        const { Request } = require('tslab-parallel');
        const fsp = require('node:fs/promises');
        if (rank === 1) {
          // Rank 0 sends only after rank 1 has done file work while 64 receives wait.
          const reqs = Array.from({ length: 64 }, (_, i) => comm.irecv(0, i));
          const waiting = Request.waitall(reqs);
          let ticks = 0;
          const timer = setInterval(() => ticks++, 5);
          const files = await Promise.all(Array.from({ length: 16 }, () => fsp.readFile('/proc/self/stat')));
          // Several timer periods with the receives waiting (on a fast machine the reads alone end
          // before the first tick): the timer fires only if the waits leave the event loop free.
          await new Promise((resolve) => setTimeout(resolve, 20));
          await comm.send(files.length, 0, 999);
          const got = await waiting;
          clearInterval(timer);
          return [got.reduce((a: number, b: number) => a + b, 0), ticks > 0 ? 1 : 0];
        }
        const ready = await comm.recv(1, 999);
        await Promise.all(Array.from({ length: 64 }, (_, i) => comm.send(i, 1, i)));
        return [ready];
      }),
    });
    expect(values).toEqual([[16], [2016, 1]]);
  });

  it('a rank that fails leaves no process behind', async () => {
    const { error } = await run({ np: 3, code: code(async (comm, rank) => {
      if (rank === 2) throw new Error('rank two gives up');
      await comm.recv(2);
    }) });
    expect(error?.message).toBe('rank 2: Error: rank two gives up');
  });

  it('comm.abort leaves no process behind', async () => {
    const { error } = await run({ np: 2, code: code(async (comm, rank) => (rank === 0 ? comm.abort(4) : comm.recv(0))) });
    expect(error?.message).toBe('rank 0: AbortError: comm.abort(4) was called, so every rank was stopped');
  });

  it('a deadlock leaves no process behind', async () => {
    const { error } = await run({ np: 2, timeout: 0.5, code: code(async (comm, rank) => comm.recv(1 - rank, 3)) });
    expect(error?.name).toBe('DeadlockError');
  });

  it('an aborted signal kills ranks busy in an endless loop, and their mpirun', async () => {
    const controller = new AbortController();
    const started = new Set<number>();
    const { error } = await run({
      np: 2,
      signal: controller.signal,
      code: code(() => {
        console.log('started');
        for (;;);
      }),
      onOutput: (rank) => {
        started.add(rank);
        if (started.size === 2) controller.abort();
      },
    });
    expect(error?.message).toBe('the ranks were stopped: the signal was aborted; nothing was returned (run again to retry)');
  });

  it('a kernel interrupt kills the whole mpirun tree', async () => {
    const started = new Set<number>();
    const { error } = await run({
      np: 3,
      code: code(async (comm, rank) => {
        console.log('waiting');
        // Rank 0 waits on a timer of its own (a bare never-settling promise would leave its event
        // loop empty: it would exit, code 0, before the interrupt on a loaded machine).
        await (rank === 0 ? new Promise(() => setInterval(() => {}, 1000)) : comm.recv(0));
      }),
      onOutput: (rank) => {
        started.add(rank);
        if (started.size === 3) notifyKernelInterrupt();
      },
    });
    expect(error?.message).toBe('the ranks were stopped: the kernel was interrupted; nothing was returned (run again to retry)');
  });
});

/**
 * Never hang, never leak: every way a run can fail, on every transport, followed by a count of
 * threads, child processes, file descriptors and temp directories. Also the launcher's option
 * checks, output streaming, and notebook code arriving through src/ship.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeadlockError, prefixLines, RankFailures, runRanks, type RankFunction } from '../dist/src/comm/index.js';
import { ship } from '../dist/src/ship/index.js';
import { notifyKernelInterrupt } from '../dist/src/util/interrupt.js';
import type { RemoteError } from '../dist/src/util/remote-error.js';
import { backends, dist, shmAddonBuilt, type Backend } from './fixtures/comm/backends.js';
import { expectNoLeaks, processExists, resources, sharedFilesOf, type Resources } from './fixtures/comm/leaks.js';
import { NotebookFixture } from './fixtures/ship/notebook-fixture.js';

type Comm = Parameters<RankFunction>[0];
const quiet = () => {};

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the run to fail');
}

describe.each(backends)('%s', (backend: Backend) => {
  const run = (np: number, code: (comm: Comm, rank: number, size: number) => unknown, extra: object = {}) =>
    runRanks({ np, backend, code: code as RankFunction, onOutput: quiet, ...extra });

  let before: Resources;
  beforeAll(async () => {
    await run(2, async (comm) => comm.barrier());
    before = resources();
  });
  afterEach(async () => expectNoLeaks(before));

  it('a rank that throws stops every rank; the report names the rank, the message and the stack', async () => {
    const err = await rejection(
      run(3, async (comm, rank) => {
        function checkInput(x: number) {
          if (x === 1) throw new Error(`boom on ${x}`);
        }
        checkInput(rank);
        await comm.recv(1); // the others wait for rank 1 forever
      }),
    );
    expect(err.name).toBe('RemoteError'); // (instanceof differs: vitest and the ranks' launcher load dist/ apart)
    expect(err.message).toBe('rank 1: Error: boom on 1');
    expect((err as RemoteError).where).toBe('rank 1');
    expect(err.stack).toMatch(/^RemoteError: rank 1: Error: boom on 1\n\s+at checkInput \(rank-function\.js:\d+:\d+\)/);
    expect(err.stack).not.toContain(path.join(dist, 'comm'));
  });

  it('several failures fold into one report: the first four, each with its rank, then … N more', async () => {
    const err = await rejection(
      run(6, async (comm, rank) => {
        await comm.barrier(); // every rank is up: they fail together
        throw new TypeError(`bad input ${rank}`);
      }),
    );
    expect(err).toBeInstanceOf(RankFailures);
    expect(err.message).toMatch(/^6 ranks failed:\n( {2}\[rank (\d)\] TypeError: bad input \2\n){4} {2}… 2 more$/);
    expect((err as RankFailures).failures.map((f) => f.where).sort()).toEqual([0, 1, 2, 3, 4, 5].map((r) => `rank ${r}`));
  });

  it('a deadlock is stopped after the timeout, and the report says what each rank waits in', async () => {
    const err = await rejection(
      run(
        3,
        async (comm, rank) => {
          if (rank === 2) return;
          await comm.recv(1 - rank, 7);
        },
        { timeout: 0.5 },
      ),
    );
    expect(err).toBeInstanceOf(DeadlockError);
    expect(err.message).toBe(
      [
        'deadlock: no rank made progress for 0.5 s, so all ranks were stopped',
        '  rank 0 waiting in recv(source=1, tag=7)',
        '  rank 1 waiting in recv(source=0, tag=7)',
        '  rank 2 finished',
        'Every blocking call needs its partner on another rank: check the sources, tags and order of sends and receives, ' +
          'and that every rank calls each collective (or raise the timeout if ranks wait longer on purpose).',
      ].join('\n'),
    );
  });

  it('a collective that one rank skips is a deadlock named after the collective', async () => {
    const err = await rejection(run(2, async (comm, rank) => (rank === 0 ? comm.bcast(1, 0) : comm.Barrier()), { timeout: 0.5 }));
    expect((err as DeadlockError).ranks).toEqual([
      { rank: 0, doing: 'finished' },
      { rank: 1, doing: 'waiting in barrier()' },
    ]);
  });

  it('an aborted signal stops every rank, even one busy in an endless loop', async () => {
    const controller = new AbortController();
    const started = new Set<number>();
    const err = await rejection(
      runRanks({
        np: 2,
        backend,
        signal: controller.signal,
        code: (async (comm: Comm, rank: number) => {
          console.log('started');
          if (rank === 0) for (;;);
          await comm.recv(0);
        }) as RankFunction,
        onOutput: (rank) => {
          started.add(rank);
          if (started.size === 2) controller.abort();
        },
      }),
    );
    expect(err.name).toBe('AbortError');
    expect(err.message).toBe('the ranks were stopped: the signal was aborted; nothing was returned (run again to retry)');
  });

  it('a signal aborted while the ranks are starting stops them too', async () => {
    const controller = new AbortController();
    const running = runRanks({ np: 3, backend, signal: controller.signal, code: () => new Promise((r) => setTimeout(r, 5000)), onOutput: quiet });
    setImmediate(() => controller.abort());
    const err = await rejection(running);
    expect(err.name).toBe('AbortError');
  });

  it('a kernel interrupt stops every rank', async () => {
    const err = await rejection(
      runRanks({
        np: 2,
        backend,
        code: (async (comm: Comm) => {
          console.log('started');
          await comm.recv();
        }) as RankFunction,
        onOutput: (rank) => rank === 1 && notifyKernelInterrupt(),
      }),
    );
    expect(err.message).toBe('the ranks were stopped: the kernel was interrupted; nothing was returned (run again to retry)');
  });

  it('comm.abort(code) stops every rank and reports the rank and the code', async () => {
    const err = await rejection(
      run(3, async (comm, rank) => {
        if (rank === 2) comm.abort(3);
        await comm.recv(2);
      }),
    );
    expect(err.message).toBe('rank 2: AbortError: comm.abort(3) was called, so every rank was stopped');
    expect((err as unknown as { exitCode: number }).exitCode).toBe(3);
  });

  it('a rank that calls process.exit is reported with its exit code', async () => {
    const err = await rejection(
      run(2, async (comm, rank) => {
        if (rank === 0) process.exit(3);
        await comm.recv(0);
      }),
    );
    expect(err.message).toBe('rank 0: Error: the rank stopped unexpectedly (exit code 3); look at its output above for the reason');
  });

  it('an unhandled rejection in a rank is that rank’s failure', async () => {
    const err = await rejection(
      run(2, async (comm, rank) => {
        if (rank === 1) void Promise.reject(new RangeError('forgotten promise'));
        await comm.recv(1 - rank);
      }),
    );
    expect(err.message).toBe('rank 1: RangeError: forgotten promise');
  });

  it('a return value that cannot be cloned is reported with the fix', async () => {
    const err = await rejection(run(1, async () => () => 1));
    expect(err.message).toMatch(/^rank 0: DataCloneError: the rank's return value cannot be sent back \(.*\); return plain data: numbers, strings, arrays, objects, typed arrays$/);
  });

  it('output streams live as whole lines, labelled by rank, and none is lost', async () => {
    const lines: [number, string, string, boolean][] = [];
    let done = false;
    await runRanks({
      np: 2,
      backend,
      code: (async (comm: Comm, rank: number) => {
        console.log(`hello from ${rank}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
        for (let i = 0; i < 300; i++) console.log(`line ${i}`);
        process.stderr.write('partial, no newline');
        await comm.barrier();
      }) as RankFunction,
      onOutput: (rank, stream, text) => {
        for (const line of text.slice(0, -1).split('\n')) lines.push([rank, stream, line, done]);
      },
    });
    done = true;
    for (const rank of [0, 1]) {
      const mine = lines.filter(([r]) => r === rank);
      expect(mine[0]).toEqual([rank, 'stdout', `hello from ${rank}`, false]);
      expect(mine.filter(([, s]) => s === 'stdout').map(([, , l]) => l)).toEqual([`hello from ${rank}`, ...Array.from({ length: 300 }, (_, i) => `line ${i}`)]);
      expect(mine.filter(([, s]) => s === 'stderr').map(([, , l]) => l)).toEqual(['partial, no newline']);
    }
  });

  it('notebook code shipped by src/ship runs on every rank, and its failures point at the notebook cell', async () => {
    const nb = new NotebookFixture(path.join(__dirname, 'fixtures', 'ship'));
    const cell = nb.run('function scaled(x: number) {\n  if (x > 1) throw new RangeError("too big: " + x);\n  return x * 10;\n}');
    const target = { code: 'async function (comm, rank, size) { return exports.scaled(rank) + (await comm.allreduce(1)); }', provided: ['comm', 'rank', 'size'] };
    const shipment = ship({ rank: target }, { definitions: nb });
    expect(await runRanks({ np: 2, backend, shipment, onOutput: quiet })).toEqual([2, 12]);
    const err = await rejection(runRanks({ np: 3, backend, shipment, onOutput: quiet }));
    const at = nb.position(cell, 'new RangeError');
    expect(err.message).toBe('rank 2: RangeError: too big: 2');
    expect(err.stack).toContain(`${cell.file}:${at.line}:${at.column + 1}`);
  });
});

describe('processes', () => {
  it('rank processes ignore SIGINT, and stopping a rank stops the processes it started', async () => {
    const [pid] = await runRanks<number>({
      np: 1,
      backend: 'processes',
      code: async () => {
        process.kill(process.pid, 'SIGINT'); // what Jupyter sends the kernel's process group
        await new Promise((resolve) => setTimeout(resolve, 100));
        return require('node:child_process').spawn('sleep', ['60']).pid;
      },
      onOutput: quiet,
    });
    expect(pid).toBeGreaterThan(0);
    // SIGKILL is delivered asynchronously: give the process a moment to be gone.
    for (let i = 0; i < 60 && processExists(pid!); i++) await new Promise((r) => setTimeout(r, 50));
    expect(processExists(pid!)).toBe(false);
  });

  it('rank processes exit when the program that started them dies', async () => {
    // Each rank says whether it maps the world's shared file (with the shm addon built).
    const launcher = spawn(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(path.join(dist, 'comm', 'index.js'))}).runRanks({ np: 2, backend: 'processes', timeout: 0,
           code: async () => {
             const shared = require('fs').readFileSync('/proc/self/maps', 'utf8').includes('/tslab-parallel-shm-');
             console.log(process.pid, shared); setInterval(() => {}, 1000); await new Promise(() => {}); } })`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const pids: number[] = [];
    const shared: boolean[] = [];
    await new Promise<void>((resolve) => {
      launcher.stdout.setEncoding('utf8').on('data', (text: string) => {
        for (const m of text.matchAll(/\[rank \d\] (\d+) (true|false)/g)) {
          pids.push(Number(m[1]));
          shared.push(m[2] === 'true');
        }
        if (pids.length === 2) resolve();
      });
    });
    expect(shared).toEqual([shmAddonBuilt, shmAddonBuilt]);
    launcher.kill('SIGKILL');
    for (let i = 0; i < 100 && pids.some(processExists); i++) await new Promise((r) => setTimeout(r, 50));
    expect(pids.filter(processExists)).toEqual([]);
    // ... and the run's socket directory goes with them (its owner could not remove it).
    const runDirs = () => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith(`tslab-parallel-comm-${launcher.pid}-`));
    for (let i = 0; i < 40 && runDirs().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(runDirs()).toEqual([]);
    // The shared file never had a name past start-up: its memory went with the last rank.
    expect(sharedFilesOf(launcher.pid!)).toEqual([]);
  });
});

describe('runRanks options', () => {
  const code = async () => 1;
  it.each([
    [{ np: 0, code }, 'options.np must be a positive integer'],
    [{ np: 1.5, code }, 'options.np must be a positive integer'],
    [{ np: 2, code, backend: 'gpu' }, "options.backend must be 'threads', 'processes' or 'mpi'"],
    [{ np: 2, code, backend: 'mpi', mpi: { mpirunArgs: '--bind-to none' } }, "options.mpi.mpirunArgs must be an array of strings, e.g. ['--bind-to', 'none']"],
    [{ np: 2, code, timeout: -1 }, 'options.timeout must be a number of seconds >= 0 (0: no timeout)'],
    [{ np: 2, code, signal: {} }, 'options.signal must be an AbortSignal'],
    [{ np: 2, code, onOutput: 'x' }, 'options.onOutput must be a function (rank, stream, text) => void'],
    [{ np: 2, code: 42 }, 'options.code must be a function (comm, rank, size, data) => ... or its source text'],
    [{ np: 2, script: 'x.py' }, 'options.script must be the path of a .ts, .js or .mjs file'],
    [{ np: 2, script: 'x.ts', args: [1] }, 'options.args must be an array of strings'],
    [{ np: 2 }, 'give exactly one of options.code, options.script and options.shipment'],
    [{ np: 2, code, script: 'x.ts' }, 'give exactly one of options.code, options.script and options.shipment'],
  ])('%o is refused: %s', async (options, message) => {
    await expect(runRanks(options as never)).rejects.toThrow(message);
  });

  it('an already aborted signal starts nothing', async () => {
    await expect(runRanks({ np: 2, code, signal: AbortSignal.abort() })).rejects.toThrow('the signal was already aborted');
  });

  it('prefixLines labels every line with its rank', () => {
    expect(prefixLines(3, 'a\nb\n')).toBe('[rank 3] a\n[rank 3] b\n');
  });
});

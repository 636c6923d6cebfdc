/**
 * The processes backend's shared memory (native/shm, npm run build:shm): with the addon, the
 * ranks of a world map one shared file that has no name left from the start (so nothing can leak
 * whatever dies) and small messages go through it, a rank asleep on its sockets woken by a
 * WAKE frame; without the addon the ranks talk over their sockets as before; the doctor says which;
 * and building it without the tools says what to install, leaving a built addon alone.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRanks, type RankFunction } from '../dist/src/comm/index.js';
import { shmAddonBuilt } from './fixtures/comm/backends.js';
import { expectNoLeaks, resources, type Resources } from './fixtures/comm/leaks.js';

type Comm = Parameters<RankFunction>[0];
const repo = path.resolve(__dirname, '..');
const quiet = () => {};

interface RankView {
  /** The rank's mappings of shared-memory files: "inode path". */
  maps: string[];
  /** Names of this launcher's shared files still in /dev/shm, seen from the rank. */
  names: string[];
  /** What rank 1 received, in order. */
  got: number[];
}

/** Each rank reports its shared mappings; then rank 0 sends rank 1 small and large messages, mixed, on one tag. */
const mapsAndTraffic = async (comm: Comm, rank: number, _size: number, launcher: number): Promise<RankView> => {
  const fs = require('node:fs');
  const maps = fs
    .readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l: string) => l.includes('/tslab-parallel-shm-'))
    .map((l: string) => l.split(/\s+/).slice(4).join(' '));
  const names = fs.existsSync('/dev/shm') ? fs.readdirSync('/dev/shm').filter((n: string) => n.startsWith(`tslab-parallel-shm-${launcher}-`)) : [];
  const got: number[] = [];
  if (rank === 0) {
    for (let i = 0; i < 30; i++) await comm.Send(new Float64Array(i % 4 === 0 ? 100_000 : 2).fill(i), 1, 5);
  } else if (rank === 1) {
    for (let i = 0; i < 30; i++) got.push((await comm.recv(0, 5))[0]);
  }
  await comm.barrier();
  return { maps, names, got };
};

const inOrder = Array.from({ length: 30 }, (_, i) => i);

describe('processes backend shared memory', () => {
  let before: Resources;
  beforeAll(async () => {
    await runRanks({ np: 2, backend: 'processes', code: async (comm: Comm) => comm.barrier(), onOutput: quiet });
    before = resources();
  });
  afterEach(async () => expectNoLeaks(before));

  it.skipIf(!shmAddonBuilt)('every rank maps the one shared file of its world, already unlinked; messages keep their order', async () => {
    const views = await runRanks<RankView, number>({ np: 3, backend: 'processes', code: mapsAndTraffic as RankFunction<number>, data: process.pid, onOutput: quiet });
    for (const v of views) {
      expect(v.maps).toHaveLength(1);
      expect(v.maps[0]).toMatch(/^\d+ \/dev\/shm\/tslab-parallel-shm-\d+-[0-9a-f]{12} \(deleted\)$/);
      expect(v.names).toEqual([]);
    }
    expect(new Set(views.map((v) => v.maps[0])).size).toBe(1); // one file (the same inode) for the world
    expect(views[1]!.got).toEqual(inOrder);
  });

  it.skipIf(!shmAddonBuilt)('a rank asleep on its sockets is woken by a small message sent into its ring', async () => {
    // Rank 0 waits far longer than a receiver spins before each send, so rank 1 sleeps every time.
    const [, got] = await runRanks<number[]>({
      np: 2,
      backend: 'processes',
      timeout: 10,
      onOutput: quiet,
      code: (async (comm: Comm, rank: number) => {
        const got: number[] = [];
        for (let i = 0; i < 20; i++) {
          if (rank === 0) {
            await new Promise((r) => setTimeout(r, 5));
            await comm.Send(new Int32Array([i]), 1, 0);
          } else {
            const buf = new Int32Array(1);
            await comm.Recv(buf, 0, 0);
            got.push(buf[0]!);
          }
        }
        return got;
      }) as RankFunction,
    });
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('collectives started together on one communicator each get their own result, however the rings hand their messages over', async () => {
    // Messages taken from a ring in the middle of a rank's code must not let a later call
    // complete ahead of an earlier one woken by the same messages (it would send its next
    // message first, into the other's receive).
    const results = await runRanks<boolean, number>({
      np: 3,
      backend: 'processes',
      onOutput: quiet,
      data: 200,
      code: (async (comm: Comm, rank: number, size: number, rounds: number) => {
        let ok = true;
        for (let round = 0; round < rounds; round++) {
          const a = new Float64Array([rank + round]);
          const b = new Int32Array([rank * round, 1]);
          const c = new Float32Array([rank, round]);
          await Promise.all([comm.Allreduce(a, a, 'SUM'), comm.Allreduce(b, b, 'MAX'), comm.Allreduce(c, c, 'MIN')]);
          const sum = (size * (size - 1)) / 2 + size * round;
          ok &&= a[0] === sum && b[0] === (size - 1) * round && b[1] === 1 && c[0] === 0 && c[1] === round;
        }
        return ok;
      }) as RankFunction<number>,
    });
    expect(results).toEqual([true, true, true]);
  });

  it('without the addon the ranks map nothing and talk over their sockets, in order', async () => {
    const saved = process.env.TSLAB_PARALLEL_SHM_ADDON;
    process.env.TSLAB_PARALLEL_SHM_ADDON = '/nonexistent/tslab_shm.node';
    try {
      const views = await runRanks<RankView, number>({ np: 2, backend: 'processes', code: mapsAndTraffic as RankFunction<number>, data: process.pid, onOutput: quiet });
      expect(views.map((v) => v.maps)).toEqual([[], []]);
      expect(views[1]!.got).toEqual(inOrder);
    } finally {
      if (saved === undefined) delete process.env.TSLAB_PARALLEL_SHM_ADDON;
      else process.env.TSLAB_PARALLEL_SHM_ADDON = saved;
    }
  });

  it('the doctor says whether the addon is there, and how to build it when not', () => {
    const doctor = (env: NodeJS.ProcessEnv) =>
      spawnSync(process.execPath, ['dist/src/cli.js', 'doctor', '--no-run'], { cwd: repo, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 }).stdout;
    expect(doctor({ TSLAB_PARALLEL_SHM: '1', TSLAB_PARALLEL_SHM_ADDON: '/nonexistent/tslab_shm.node' })).toContain(
      '[warn] shared-memory addon (processes backend, large shared() arrays): not built (no /nonexistent/tslab_shm.node); ' +
        '%%mpirun --backend processes uses its sockets only (slower for small messages), and large shared() arrays fault their pages in one by one\n' +
        `       fix: cd ${repo} && npm run build:shm\n`,
    );
    if (shmAddonBuilt) {
      expect(doctor({})).toMatch(
        /\[ok {2}\] shared-memory addon \(processes backend, large shared\(\) arrays\): \S+tslab_shm\.node \(small messages between process ranks go through shared memory; large shared\(\) arrays come with their pages resident\)\n/,
      );
    }
  });
});

describe('build:shm without a compiler', () => {
  it('exits 1, names what is missing and the fallback, leaves native/shm/build alone', () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'tslab-shm-build-'));
    try {
      fs.symlinkSync(process.execPath, path.join(bin, 'node'));
      const addon = path.join(repo, 'native', 'shm', 'build', 'Release', 'tslab_shm.node');
      const mtime = () => (fs.existsSync(addon) ? fs.statSync(addon).mtimeMs : undefined);
      const before = mtime();
      const r = spawnSync(process.execPath, ['scripts/build-shm.mjs'], { cwd: repo, encoding: 'utf8', env: { PATH: bin, HOME: os.tmpdir() }, timeout: 60_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('build:shm: cannot build the shared-memory addon: missing on PATH: python3, make, a C++ compiler (Debian: sudo apt-get install build-essential python3).');
      expect(r.stderr).toContain('%%mpirun --backend processes talks over sockets only');
      expect(mtime()).toBe(before);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});

/**
 * The Open MPI backend across two hosts (helpers/two-hosts.ts: network namespaces with their
 * own hostnames, Open MPI's rsh launcher entering them), through a real mpirun:
 * - the control address: chosen from the hostfile without any variable (the address that routes
 *   to the hosts, never 127.0.0.1), overridden by TSLAB_PARALLEL_MPI_CONTROL_HOST, and ranks
 *   that cannot connect back are reported by address, port and host with the fix;
 * - `tslab-parallel rank` scripts: point-to-point, collectives, a typed halo exchange and abort
 *   across the hosts;
 * - the kernel, through a real client: %%mpirun --backend mpi --hostfile with functions shipped,
 *   --out, a failing rank on the other host reported by rank and host, an interrupt.
 * After each run no process is left on either host. One test bed for the whole file.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRanks, type RankFunction } from '../dist/src/comm/index.js';
import { planControl } from '../dist/src/comm/mpi/control-hosts.js';
import { mpiUnavailable } from './fixtures/comm/backends.js';
import { useKernelSession } from './helpers/kernel-session.js';
import { descendants, survivors } from './helpers/process-tree.js';
import { makeTwoHosts, twoHostsUnavailable, type TwoHosts } from './helpers/two-hosts.js';

type Comm = Parameters<RankFunction>[0];

const kVariable = 'TSLAB_PARALLEL_MPI_CONTROL_HOST';
const cli = path.resolve(__dirname, '..', 'dist', 'src', 'cli.js');
// "No special environment": whatever the machine sets, the address is found without it.
delete process.env[kVariable];

let bed: TwoHosts;
/** Processes on the test hosts, once the ones that are ending have gone. */
async function leftOnHosts(): Promise<number[]> {
  let left = bed.processes();
  for (let i = 0; i < 60 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    left = bed.processes();
  }
  return left;
}

async function withVariable<T>(value: string, run: () => Promise<T>): Promise<T> {
  process.env[kVariable] = value;
  try {
    return await run();
  } finally {
    delete process.env[kVariable];
  }
}

const scripts: Record<string, string> = {
  // Every rank prints one JSON line of what it saw: p2p, collectives and a halo exchange.
  'suite.ts': `
    import { comm, Request, SUM, MAX } from 'tslab-parallel';
    import * as os from 'node:os';
    export async function main(c: typeof comm, rank: number, size: number) {
      const right = (rank + 1) % size, left = (rank + size - 1) % size;
      const [, fromLeft] = await Promise.all([c.send({ from: rank, host: os.hostname() }, right, 3), c.recv(left, 3)]);
      const typed = new Float64Array(4);
      await c.Sendrecv(new Float64Array(4).fill(rank), right, 4, typed, left, 4);
      const sum = await c.allreduce(rank + 1, SUM);
      const max = await c.reduce(rank, MAX, 0);
      const word = await c.bcast(rank === 0 ? 'from zero' : undefined, 0);
      const gathered = await c.allgather(os.hostname());
      const scattered = await c.scatter(rank === 0 ? [10, 11, 12, 13] : null, 0);
      const swapped = await c.alltoall(Array.from({ length: size }, (_, j) => rank * 10 + j));
      const doubles = new Float64Array([rank, 1]);
      const total = new Float64Array(2);
      await c.Allreduce(doubles, total, SUM);
      // Halo exchange: rows (halo, own, halo) of n cells; own rows to the neighbours' halos.
      const n = 1000;
      const grid = new Float64Array(3 * n).fill(-1);
      grid.subarray(n, 2 * n).fill(rank);
      const reqs = [c.Irecv(grid.subarray(0, n), left, 7), c.Irecv(grid.subarray(2 * n), right, 8)];
      await Promise.all([c.Send(grid.subarray(n, 2 * n), right, 7), c.Send(grid.subarray(n, 2 * n), left, 8)]);
      await Request.waitall(reqs);
      console.log(JSON.stringify({ rank, host: os.hostname(), fromLeft, typed: [...typed], sum, max: max ?? null, word, gathered, scattered, swapped,
        total: [...total], halo: [grid[0], grid[n - 1], grid[2 * n], grid[3 * n - 1]] }));
    }`,
  'failing.ts': `
    import { comm } from 'tslab-parallel';
    function check(piece: number) {
      if (piece === 2) throw new Error('piece 2 is broken');
    }
    check(comm.rank);
    comm.recv(2).then(() => console.log('never'));`,
  'aborting.js': `
    const { comm } = require('tslab-parallel');
    if (comm.rank === 3) comm.abort(7);
    comm.recv(3);`,
};

interface Ran {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

function mpirun(np: number, script: string): Promise<Ran> {
  const args = ['-np', String(np), '--hostfile', bed.hostfile, ...bed.mpirunArgs, process.execPath, cli, 'rank', script];
  return new Promise((resolve) => {
    const child = spawn('mpirun', args, { cwd: bed.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe.skipIf(twoHostsUnavailable || mpiUnavailable)('Open MPI on two hosts', () => {
  beforeAll(() => {
    bed = makeTwoHosts();
    for (const [name, text] of Object.entries(scripts)) fs.writeFileSync(path.join(bed.dir, name), text);
  });
  afterAll(() => bed?.close());
  afterEach(async () => expect(await leftOnHosts()).toEqual([]));

  describe('the control address', () => {
    const ranks = <R>(code: (comm: Comm) => unknown, np = 4) =>
      runRanks<R>({ np, backend: 'mpi', code: code as RankFunction, mpi: { hostfile: bed.hostfile, mpirunArgs: bed.mpirunArgs }, onOutput: () => {} });

    it('is the address this machine sends from towards the hosts of the hostfile', async () => {
      const [a, b] = bed.hosts;
      const plan = await planControl({ hostfile: bed.hostfile }, bed.dir);
      expect([plan.hosts, plan.listen, plan.remote]).toEqual([[a.gateway, b.gateway], undefined, [a.address, b.address]]);
      expect((await planControl({ mpirunArgs: ['--host', `${b.address}:2`] }, bed.dir)).hosts).toEqual([b.gateway]);
      fs.writeFileSync(path.join(bed.dir, 'local'), '# this host only\nlocalhost slots=2\n');
      expect(await planControl({ hostfile: 'local' }, bed.dir)).toMatchObject({ hosts: ['127.0.0.1'], remote: [] });
      expect(await planControl({}, bed.dir)).toMatchObject({ hosts: ['127.0.0.1'], listen: '127.0.0.1' });
      expect(await withVariable('192.0.2.7, 192.0.2.8', () => planControl({ hostfile: bed.hostfile }, bed.dir))).toMatchObject({ hosts: ['192.0.2.7', '192.0.2.8'] });
    });

    it('ranks on both hosts connect back with no variable set', async () => {
      const values = await ranks<[string, number]>(async (comm) => [require('node:os').hostname(), await comm.allreduce(comm.rank)]);
      const [a, b] = bed.hosts;
      expect(values.map((v) => v[0]).sort()).toEqual([a.name, a.name, b.name, b.name]);
      expect(values.map((v) => v[1])).toEqual([6, 6, 6, 6]);
    });

    it('TSLAB_PARALLEL_MPI_CONTROL_HOST overrides it; ranks try its addresses in turn', async () => {
      const values = await withVariable(`127.0.0.1,${bed.hosts[1].gateway}`, () => ranks<number>((comm) => comm.allreduce(1)));
      expect(values).toEqual([4, 4, 4, 4]);
    });

    it('ranks that cannot connect back are reported by address, port and host, with the fix', async () => {
      const error = await withVariable('127.0.0.1', () => ranks((comm) => comm.barrier())).then(
        () => undefined,
        (e: Error) => e,
      );
      const [a, b] = bed.hosts;
      expect(error?.message).toMatch(
        new RegExp(`^could not start the ranks on \\{ backend: 'mpi' \\}: ranks on (${a.name}, ${b.name}|${b.name}, ${a.name}) could not connect back to this machine at 127\\.0\\.0\\.1:(\\d+) \\(${kVariable}=127\\.0\\.0\\.1\\): `),
      );
      const port = /127\.0\.0\.1:(\d+)/.exec(error!.message)![1];
      // Ranks 2 and 3 run on b; which of them reports before mpirun stops the job is timing.
      expect(error?.message).toMatch(new RegExp(`rank [23] on ${b.name}: 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
      expect(error?.message).toContain(`set ${kVariable} to an address of this machine that`);
      expect(error?.message).toContain('through the firewall');
      expect(error?.message).not.toContain('MPI_ABORT');
    });

    it('a failing rank is reported with its rank and host', async () => {
      const error = await ranks(async (comm) => {
        if (comm.rank === 3) throw new RangeError('rank three is out of range');
        await comm.recv(3);
      }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toBe(`rank 3: RangeError: rank three is out of range (on ${bed.hosts[1].name})`);
    });
    it('a rank killed on the other host is reported with its rank and host', async () => {
      const error = await ranks(async (comm) => {
        if (comm.rank === 3) process.kill(process.pid, 'SIGKILL');
        await comm.recv(3);
      }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(new RegExp(`^rank 3: Error: the rank stopped unexpectedly \\(mpirun exited with code \\d+; it ran on ${bed.hosts[1].name}\\)`));
    });
  });

  describe('tslab-parallel rank across the hosts', () => {
    it('point-to-point, collectives and a typed halo exchange', async () => {
      const r = await mpirun(4, 'suite.ts');
      expect(r.code).toBe(0);
      const [a, b] = bed.hosts.map((h) => h.name);
      const seen = r.out.trim().split('\n').map((l) => JSON.parse(l)).sort((x, y) => x.rank - y.rank);
      const hosts = [a, a, b, b];
      expect(seen).toEqual(
        [0, 1, 2, 3].map((rank) => {
          const left = (rank + 3) % 4;
          const right = (rank + 1) % 4;
          return {
            rank,
            host: hosts[rank],
            fromLeft: { from: left, host: hosts[left] },
            typed: [left, left, left, left],
            sum: 10,
            max: rank === 0 ? 3 : null,
            word: 'from zero',
            gathered: hosts,
            scattered: 10 + rank,
            swapped: [0, 1, 2, 3].map((j) => j * 10 + rank),
            total: [6, 4],
            halo: [left, left, right, right],
          };
        }),
      );
    });

    it('an uncaught error on the other host prints its rank and stack, and stops every rank', async () => {
      const r = await mpirun(4, 'failing.ts');
      expect(r.code).toBe(1);
      expect(r.err).toContain('rank 2: Error: piece 2 is broken\n');
      expect(r.err).toMatch(/at check \(.*failing\.ts:4:\d+\)/);
      expect(r.out).not.toContain('never');
    });

    it('comm.abort(code) on the other host ends mpirun with that code', async () => {
      const r = await mpirun(4, 'aborting.js');
      expect(r.code).toBe(7);
    });
  });

  describe('%%mpirun --backend mpi --hostfile in the kernel', () => {
    const k = useKernelSession();
    const magic = (np: number, extra = '') => `%%mpirun -np ${np} --backend mpi --hostfile ${bed.hostfile} --mpirun-args "${bed.mpirunArgs.join(' ')}"${extra}`;

    it('runs on both hosts, ships functions of earlier cells and brings --out back', async () => {
      await k.run('function piece(r: number): number {\n  return (r + 1) * 10;\n}');
      const r = await k.run(`${magic(4, ' --out total')}\nconsole.log(\`on \${require('node:os').hostname()}\`);\nconst total = await comm.allreduce(piece(rank));`);
      expect(r.status).toBe('ok');
      const [a, b] = bed.hosts.map((h) => h.name);
      expect(r.stdout.trim().split('\n').sort()).toEqual([`[rank 0] on ${a}`, `[rank 1] on ${a}`, `[rank 2] on ${b}`, `[rank 3] on ${b}`]);
      expect((await k.run('total')).result).toBe('100');
    });

    it('a failing rank on the other host is reported with its rank, host and cell line', async () => {
      const r = await k.run(`${magic(4)}\nif (rank === 2) {\n  throw new RangeError('rank two is out of range');\n}\nawait comm.recv(2);`);
      expect(r.status).toBe('error');
      expect(r.error?.evalue).toBe(`rank 2: RangeError: rank two is out of range (on ${bed.hosts[1].name})`);
      expect(r.error?.traceback).toMatch(/line 3/);
    });

    it('an interrupt stops mpirun and every rank on both hosts', async () => {
      const pending = k.start(`${magic(4)}\nconsole.log('spinning');\nfor (;;) {}`);
      const spinning = async () => {
        for (let i = 0; i < 600; i++) {
          const ranks = bed.processes().filter((pid) => {
            try {
              return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('entry.js');
            } catch {
              return false;
            }
          });
          if (ranks.length === 4) return ranks;
          await new Promise((r) => setTimeout(r, 50));
        }
        return [];
      };
      const ranks = await spinning();
      expect(ranks.length).toBe(4);
      const tree = descendants(k.pid);
      await k.kernel.client.interrupt();
      const r = await pending;
      expect(r.status).toBe('error');
      expect(await survivors([...tree, ...ranks], 5000)).toEqual([]);
      const after = await k.run(`${magic(2)}\nconsole.log(await comm.allreduce(1));`);
      expect(after.stdout.trim().split('\n').sort()).toEqual(['[rank 0] 2', '[rank 1] 2']);
    });

    it('a session keeps state on both hosts across cells, gathers it back and closes leaving nothing', async () => {
      const [a, b] = bed.hosts.map((h) => h.name);
      const started = await k.run(`%mpirun --session -np 4 --backend mpi --hostfile ${bed.hostfile} --mpirun-args "${bed.mpirunArgs.join(' ')}"`);
      expect(started.error).toBeUndefined();
      expect(started.stdout).toMatch(/^%mpirun session: 4 ranks on mpi .*0 cells run, idle/);
      expect(bed.processes().length).toBeGreaterThan(0);
      const one = await k.run("%%mpirun\nconst host = require('node:os').hostname();\nlet steps = 0;\nconst field = new Float64Array(3).fill(rank);");
      expect(one.error).toBeUndefined();
      const two = await k.run('%%mpirun\nsteps += 1;\nfor (let i = 0; i < field.length; i++) field[i] += await comm.allreduce(steps);\nconsole.log(`${host} ${steps}`);');
      expect(two.error).toBeUndefined();
      expect(two.stdout.trim().split('\n').sort()).toEqual([`[rank 0] ${a} 1`, `[rank 1] ${a} 1`, `[rank 2] ${b} 1`, `[rank 3] ${b} 1`]);
      const three = await k.run('%%mpirun --gather field --out hosts@all\nsteps += 1;\nfield[0] += steps;\nconst hosts = [host, steps];');
      expect(three.error).toBeUndefined();
      expect((await k.run('Array.from(field).join(",")')).result).toBe('6,4,4,7,5,5,8,6,6,9,7,7');
      expect((await k.run('JSON.stringify(hosts)')).result).toBe(JSON.stringify([[a, 2], [a, 2], [b, 2], [b, 2]]));
      // The status names each rank's pid and host: processes that run in that host's namespace.
      const status = await k.run('%mpirun');
      const where = new RegExp(`^%mpirun session: 4 ranks on mpi \\(pid (\\d+) on ${a}, pid (\\d+) on ${a}, pid (\\d+) on ${b}, pid (\\d+) on ${b}\\), 3 cells run, idle\\n$`).exec(status.stdout);
      expect(where, status.stdout).not.toBeNull();
      const pids = where!.slice(1).map(Number);
      const namespaceOf = (pid: number) => execFileSync('ip', ['netns', 'identify', String(pid)], { encoding: 'utf8' }).trim();
      expect(pids.map(namespaceOf)).toEqual([a, a, b, b]);
      for (const pid of pids) expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('entry.js');
      const closed = await k.run('%mpirun --close');
      expect(closed.stdout).toBe('closed the %mpirun session (4 ranks on mpi)\n');
      expect(await leftOnHosts()).toEqual([]);
      expect((await k.run('%%mpirun\n1;')).error?.evalue).toMatch(/no %mpirun session is open/);
    });
  });
});

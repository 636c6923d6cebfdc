/**
 * %%mpirun --backend mpi in a real kernel: the cell code of the threads backend runs unchanged
 * under a real mpirun, with live [rank k] output, functions from earlier cells, --out; an error
 * on a rank is reported with its rank and cell line; a kernel interrupt kills the whole mpirun
 * tree; --hostfile without --backend mpi is a usage error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mpiUnavailable } from './fixtures/comm/backends.js';
import { useKernelSession } from './helpers/kernel-session.js';
import { descendants, survivors, waitForProcesses } from './helpers/process-tree.js';

/** The kernel's magic registry (src/magics/index.ts) lists %%mpirun once the comm layer is wired in. */
const registered = fs.readFileSync(path.resolve(__dirname, '..', 'dist', 'src', 'magics', 'index.js'), 'utf8').includes('mpirun');

describe.skipIf(mpiUnavailable || !registered)('%%mpirun --backend mpi in the kernel', () => {
  const k = useKernelSession();

  it('runs the cell on every rank, output labelled [rank k]', async () => {
    const r = await k.run('%%mpirun -np 2 --backend mpi\nconsole.log(`hello from ${rank} of ${size} over ${comm.backend}`);');
    expect(r.status).toBe('ok');
    expect(r.stdout.trim().split('\n').sort()).toEqual(['[rank 0] hello from 0 of 2 over mpi', '[rank 1] hello from 1 of 2 over mpi']);
  });

  it('ships functions of earlier cells and brings --out variables back', async () => {
    await k.run('function piece(r: number): number {\n  return (r + 1) * 10;\n}');
    const r = await k.run('%%mpirun -np 3 --backend mpi --out total\nconst total = await comm.allreduce(piece(rank));');
    expect(r.status).toBe('ok');
    const back = await k.run('total');
    expect(back.result).toBe('60');
  });

  it('reports a failing rank with its rank and the cell line', async () => {
    const r = await k.run("%%mpirun -np 2 --backend mpi\nif (rank === 1) {\n  throw new RangeError('rank one is out of range');\n}\nawait comm.recv(1);");
    expect(r.status).toBe('error');
    expect(r.error?.evalue).toBe('rank 1: RangeError: rank one is out of range');
    expect(r.error?.traceback).toMatch(/line 3/);
  });

  it('a kernel interrupt kills mpirun and every rank', async () => {
    const pending = k.start("%%mpirun -np 2 --backend mpi\nconsole.log('spinning');\nfor (;;) {}");
    const ranks = await waitForProcesses(() => descendants(k.pid).filter((p) => /comm\/mpi\/entry\.js/.test(p.command)), 30_000);
    const tree = descendants(k.pid);
    expect(ranks.length).toBeGreaterThan(0);
    await k.kernel.client.interrupt();
    const r = await pending;
    expect(r.status).toBe('error');
    expect(await survivors(tree, 5000)).toEqual([]);
    const after = await k.run('%%mpirun -np 2 --backend mpi\nconsole.log(await comm.allreduce(1));');
    expect(after.stdout.trim().split('\n').sort()).toEqual(['[rank 0] 2', '[rank 1] 2']);
  });

  it('--hostfile without --backend mpi is a usage error', async () => {
    const r = await k.run('%%mpirun -np 2 --hostfile hosts\nconsole.log(rank);');
    expect(r.status).toBe('error');
    expect(r.error?.evalue).toContain('--hostfile and --mpirun-args go with --backend mpi');
  });
});

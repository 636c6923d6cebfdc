/**
 * %%mpirun in a real kernel, with the lecture's programs: hello from each rank, Simpson
 * integration reduced by hand with send/recv and with allreduce (e - 1 at np 1 to 4), variables
 * brought back with --out, and the never-hang guarantees: a deadlock is diagnosed, a failing
 * rank is reported with its cell line, an interrupt stops every rank and leaves no process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSession, type KernelSession } from './helpers/kernel-session.js';
import { descendants, survivors } from './helpers/process-tree.js';
import { delay } from './helpers/wait.js';

const kSimpson = `function integrate(lims: [number, number], fun: (x: number) => number, dx: number) {
  const [x1, x2] = lims;
  let n = Math.ceil((x2 - x1) / dx);
  if ((n & 1) === 0) n++;
  const h = (x2 - x1) / (n - 1);
  let tot = fun(x1) + fun(x2);
  for (let i = 1; i < n - 1; i++) tot += (i & 1 ? 4 : 2) * fun(x1 + i * h);
  return (h * tot) / 3;
}`;

describe('%%mpirun in the kernel', () => {
  let k: KernelSession;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsp-mpirun-'));
    k = await startSession({ cwd: dir });
    await k.run(kSimpson);
  }, 60_000);
  afterAll(async () => {
    await k?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says hello from each rank, each line prefixed with its rank', async () => {
    const r = await k.run('%%mpirun -np 4\nconsole.log(`Hello, this is rank ${rank} of ${size}`);');
    expect(r.status).toBe('ok');
    const lines = r.stdout.trim().split('\n').sort();
    expect(lines).toEqual([0, 1, 2, 3].map((i) => `[rank ${i}] Hello, this is rank ${i} of 4`));
  });

  it.each([1, 2, 3, 4])('integrates exp to e - 1 with a manual send/recv reduction and with allreduce at np %i', async (np) => {
    const r = await k.run(`%%mpirun -np ${np} --out manual --out reduced
const x = [...Array(size + 1).keys()].map((i) => i / size);
const mine = integrate([x[rank], x[rank + 1]], Math.exp, 0.001);
let manual = 0;
if (rank === 0) {
  manual = mine;
  for (let i = 1; i < size; i++) manual += await comm.recv<number>(i);
} else {
  await comm.send(mine, 0);
}
const reduced = await comm.allreduce(mine);`);
    expect(r.status).toBe('ok');
    const check = await k.run('[Math.abs(manual - (Math.E - 1)) < 1e-10, Math.abs(reduced - (Math.E - 1)) < 1e-10]');
    expect(check.result).toBe('[ true, true ]');
  });

  it('brings a variable back from every rank with --out NAME@all', async () => {
    const r = await k.run('%%mpirun -np 3 --out piece@all\nconst piece = new Float64Array(2).fill(rank + 0.5);');
    expect(r.status).toBe('ok');
    const back = await k.run('piece.map((a) => Array.from(a))');
    expect(back.result?.replace(/\s+/g, ' ')).toBe('[ [ 0.5, 0.5 ], [ 1.5, 1.5 ], [ 2.5, 2.5 ] ]');
  });

  it('diagnoses a deadlock: what each rank was waiting in', async () => {
    const r = await k.run('%%mpirun -np 2 --timeout 1\nif (rank === 0) await comm.recv(1, 7);\nelse await comm.recv(0, 8);');
    expect(r.error?.ename).toBe('DeadlockError');
    expect(r.error?.evalue).toContain('rank 0 waiting in recv(source=1, tag=7)');
    expect(r.error?.evalue).toContain('rank 1 waiting in recv(source=0, tag=8)');
  });

  it('stops every rank when one throws, naming the rank and the cell line', async () => {
    const r = await k.run('%%mpirun -np 3\nif (rank === 2) {\n  throw new RangeError("rank two fails");\n}\nawait comm.barrier();');
    expect(r.error?.evalue).toBe('rank 2: RangeError: rank two fails');
    expect(r.error?.traceback).toMatch(/In\[\d+\], line 3/);
  });

  it.each(['threads', 'processes'])('interrupts every rank on the %s backend and leaves no rank process', async (backend) => {
    const pending = k.start(`%%mpirun -np 2 --backend ${backend}\nwhile (true) { await comm.barrier(); }`);
    await delay(2500);
    await k.kernel.client.interrupt();
    const r = await pending;
    expect(r.error?.ename).toBe('KeyboardInterrupt');
    expect(await survivors(descendants(k.pid).filter((p) => /comm\/entry/.test(p.command)))).toEqual([]);
    const after = await k.run('%%mpirun -np 2\nconsole.log(rank)');
    expect(after.status).toBe('ok');
  });

  it('runs a script file with %mpirun, comm, rank and size in scope', async () => {
    writeFileSync(join(dir, 'hello.ts'), 'const total: number = await comm.allreduce(rank + 1);\nif (rank === 0) console.log(`sum of ranks+1 over ${size}: ${total}`);\n');
    const r = await k.run('%mpirun -np 3 hello.ts');
    expect(r.status).toBe('ok');
    expect(r.stdout).toContain('[rank 0] sum of ranks+1 over 3: 6');
  });
});

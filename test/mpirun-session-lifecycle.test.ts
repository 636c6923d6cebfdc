/**
 * The end of an %mpirun session under Debian's jupyter_client: a kernel restart and a kernel
 * shutdown each end the session's ranks, leaving no rank process, socket directory or mpirun;
 * and the deadlock watchdog stops a session cell after its --timeout, keeping the session.
 */
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './fixtures/comm/backends.js';
import { createJupyterEnv, kKernelName, type JupyterEnv } from './helpers/jupyter-env.js';
import { descendants, survivors, waitForProcesses } from './helpers/process-tree.js';
import { PyKernelClient, resultText, type PyExecution } from './helpers/py-client.js';

const rankProcesses = (pid: number) => descendants(pid).filter((p) => /comm\/(entry|mpi)|mpirun|prterun|prted/.test(p.command));
const tempDirsOf = (pid: number) => readdirSync(tmpdir()).filter((n) => n.startsWith(`tslab-parallel-comm-${pid}-`));
const errorOf = (r: PyExecution) => String(r.reply.content.evalue ?? '');

let env: JupyterEnv;
beforeAll(() => {
  env = createJupyterEnv();
});
afterAll(() => env?.cleanup());

describe.each(backends.filter((b) => b !== 'threads'))('a session on the %s backend under jupyter_client', (backend) => {
  let kc: PyKernelClient;
  beforeAll(async () => {
    kc = await PyKernelClient.start(env, kKernelName, env.dir);
  }, 60_000);
  afterAll(async () => {
    await kc?.call({ op: 'shutdown' }).catch(() => undefined);
    await kc?.quit();
  });

  it('stops a deadlocked session cell after --timeout and keeps the session', async () => {
    expect((await kc.execute(`%mpirun --session -np 2 --backend ${backend}`)).reply.content.status).toBe('ok');
    await kc.execute('%%mpirun\nconst mine = rank + 1;');
    const stuck = await kc.execute('%%mpirun --timeout 1\nawait comm.recv(1 - rank, 77);');
    expect(errorOf(stuck)).toMatch(/^deadlock: no rank made progress for 1 s[\s\S]*rank 0 waiting in recv\(source=1, tag=77\)/);
    const next = await kc.execute('%%mpirun --out kept@all\nconst kept = mine;');
    expect(next.reply.content.status).toBe('ok');
    expect(resultText(await kc.execute('kept'))).toBe('[ 1, 2 ]');
  });

  it('ends the ranks on a kernel restart', async () => {
    const ranks = await waitForProcesses(() => rankProcesses(kc.pid), 2);
    const oldPid = kc.pid;
    const r = await kc.call<{ pid: number }>({ op: 'restart' });
    kc.pid = r.pid;
    expect(await survivors(ranks, 5000)).toEqual([]);
    expect(tempDirsOf(oldPid)).toEqual([]);
    const none = await kc.execute('%%mpirun\n1;');
    expect(errorOf(none)).toMatch(/no %mpirun session is open; start one with %mpirun --session -np 4/);
  });

  it('ends the ranks on a kernel shutdown', async () => {
    expect((await kc.execute(`%mpirun --session -np 2 --backend ${backend}`)).reply.content.status).toBe('ok');
    const ranks = await waitForProcesses(() => rankProcesses(kc.pid), 2);
    const pid = kc.pid;
    await kc.call({ op: 'shutdown' });
    expect(await survivors(ranks, 5000)).toEqual([]);
    expect(tempDirsOf(pid)).toEqual([]);
  });
});

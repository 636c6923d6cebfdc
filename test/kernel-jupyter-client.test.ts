/**
 * The kernel under Debian's jupyter_client, started from its installed kernelspec as Jupyter
 * starts it: execute, the four stuck-cell interrupts (by message, as the spec says, and by
 * SIGINT for a spec with interrupt_mode "signal"), restart and shutdown — after which no
 * process the kernel started is left.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kStuckCells } from './helpers/interrupt-cases.js';
import { createJupyterEnv, kKernelName, kSignalKernelName, type JupyterEnv } from './helpers/jupyter-env.js';
import { descendants, isAlive, survivors, waitForProcesses } from './helpers/process-tree.js';
import { PyKernelClient, resultText, type PyExecution } from './helpers/py-client.js';
import { waitForFile } from './helpers/wait.js';

let env: JupyterEnv;
let markers = 0;
const marker = () => join(env.dir, `stuck-${++markers}`);

beforeAll(() => {
  env = createJupyterEnv({ signalKernel: true });
});
afterAll(() => env?.cleanup());

function expectInterrupted(r: PyExecution): void {
  expect(r.reply.content.status).toBe('error');
  expect(r.reply.content.ename).toBe('KeyboardInterrupt');
  const error = r.iopub.find((m) => m.header.msg_type === 'error');
  expect(error?.content.ename).toBe('KeyboardInterrupt');
}

/** Runs a stuck cell, interrupts it once it is stuck, and returns what the client got. */
async function interruptStuck(kc: PyKernelClient, code: (marker: string) => string): Promise<PyExecution> {
  const m = marker();
  const msgId = await kc.send(code(m));
  await waitForFile(m);
  await kc.call({ op: 'interrupt' });
  return kc.wait(msgId, 30);
}

describe('jupyter_client, interrupt_mode "message"', () => {
  let kc: PyKernelClient;
  beforeAll(async () => {
    kc = await PyKernelClient.start(env, kKernelName, env.dir);
  });
  afterAll(async () => kc?.quit());

  it('starts the kernel from the installed kernelspec and executes a cell', async () => {
    expect(kc.interruptMode).toBe('message');
    expect(isAlive(kc.pid)).toBe(true);
    const r = await kc.execute('const keep = 41;\nkeep + 1');
    expect(r.reply.content.status).toBe('ok');
    expect(resultText(r)).toBe('42');
    const info = await kc.call<{ reply: { content: Record<string, any> } }>({ op: 'kernel_info' });
    expect(info.reply.content.implementation).toBe('tslab-parallel');
    expect(info.reply.content.language_info.name).toBe('typescript');
  });

  for (const stuck of kStuckCells) {
    it(`interrupts ${stuck.name}; the kernel keeps its state and runs the next cell`, async () => {
      expectInterrupted(await interruptStuck(kc, stuck.code));
      expect((await kc.call<{ alive: boolean }>({ op: 'is_alive' })).alive).toBe(true);
      const next = await kc.execute('keep + 1');
      expect(next.reply.content.status).toBe('ok');
      expect(resultText(next)).toBe('42');
    });
  }

  it('restarts: a new process, the old one gone, the namespace empty, counting from 1', async () => {
    const oldPid = kc.pid;
    const r = await kc.call<{ pid: number }>({ op: 'restart' });
    expect(r.pid).not.toBe(oldPid);
    expect(await survivors([oldPid])).toEqual([]);
    const gone = await kc.execute('keep');
    expect(gone.reply.content.status).toBe('error');
    expect(gone.reply.content.evalue).toContain("Cannot find name 'keep'");
    const fresh = await kc.execute('1 + 1');
    expect(resultText(fresh)).toBe('2');
    expect(fresh.reply.content.execution_count).toBe(2);
    kc.pid = r.pid;
  });

  it('shuts down, leaving no process the kernel started (spawned by a cell, a shell line, their children)', async () => {
    const spawned = await kc.execute(
      'const cp = require("child_process");\n' +
        'for (const args of [["-c", "sleep 300"], ["-c", "sleep 300 & sleep 300 & wait"]]) cp.spawn("/bin/bash", args, { stdio: "ignore" }).unref();',
    );
    expect(spawned.reply.content.status).toBe('ok');
    const m = marker();
    await kc.send(`!touch ${m}; sleep 300`); // still running when the shutdown comes
    await waitForFile(m);
    // sleep (bash -c execs a lone command), bash + 2 sleeps, the shell line's sleep (bash execs its last command)
    const before = await waitForProcesses(() => descendants(kc.pid), 5);
    expect(before.length).toBeGreaterThanOrEqual(5);
    const r = await kc.call<{ alive: boolean; exit_code: number | null }>({ op: 'shutdown' });
    expect(r.alive).toBe(false);
    expect(isAlive(kc.pid)).toBe(false);
    const left = await survivors(before, 2000);
    expect(left, `left behind: ${JSON.stringify(left)}`).toEqual([]);
  });
});

describe('jupyter_client, interrupt_mode "signal" (SIGINT to the kernel process group)', () => {
  let kc: PyKernelClient;
  beforeAll(async () => {
    kc = await PyKernelClient.start(env, kSignalKernelName, env.dir);
  });
  afterAll(async () => {
    await kc?.call({ op: 'shutdown' }).catch(() => undefined);
    await kc?.quit();
  });

  it('is started with interrupt_mode "signal"', async () => {
    expect(kc.interruptMode).toBe('signal');
    const r = await kc.execute('const keep = 41;');
    expect(r.reply.content.status).toBe('ok');
  });

  for (const stuck of kStuckCells) {
    it(`interrupts ${stuck.name} by SIGINT; the kernel keeps its state`, async () => {
      expectInterrupted(await interruptStuck(kc, stuck.code));
      const next = await kc.execute('keep + 1');
      expect(resultText(next)).toBe('42');
    });
  }
});

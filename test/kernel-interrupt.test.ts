/**
 * Interrupts, at the protocol level (the package's own client): SIGINT sent to the kernel
 * process alone (`kill -INT`) ends each kind of stuck cell; an interrupt_request on control
 * ends shell commands with everything they started; an idle kernel takes an interrupt calmly;
 * a shutdown_request reaches a kernel whose cell never yields, and the process ends.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kStuckCells } from './helpers/interrupt-cases.js';
import { errorOf, evaluate, start, streamOf, type ExecuteResult, type KernelProcess } from './helpers/kernel.js';
import { descendants, isAlive, survivors, waitForProcesses } from './helpers/process-tree.js';
import { touch, waitForFile } from './helpers/wait.js';

let dir: string;
let k: KernelProcess;
let markers = 0;
const marker = () => join(dir, `m${++markers}`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tslab-parallel-interrupt-'));
  k = await start({ cwd: dir });
  await evaluate(k, 'const keep = 41;');
});
afterAll(async () => {
  await k?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function expectInterrupted(r: ExecuteResult): void {
  expect(r.reply.content).toMatchObject({ status: 'error', ename: 'KeyboardInterrupt' });
  expect(errorOf(r)?.ename).toBe('KeyboardInterrupt');
  expect(errorOf(r)?.traceback).toHaveLength(1); // one line, no stack of the kernel's own
}

describe('SIGINT to the kernel process', () => {
  for (const stuck of kStuckCells) {
    it(`ends ${stuck.name}`, async () => {
      const m = marker();
      const running = k.client.execute(stuck.code(m));
      await waitForFile(m);
      process.kill(k.child.pid!, 'SIGINT');
      expectInterrupted(await running);
      expect(await evaluate(k, 'keep + 1')).toBe('42');
    });
  }
});

describe('an interrupt that lands inside a require()', () => {
  it('leaves no half-loaded module behind: the next require loads it afresh', async () => {
    // A module whose top level spins until `release` exists: the interrupt must cut it off mid-load.
    const started = marker();
    const release = marker();
    const file = join(dir, 'slow-module.js');
    writeFileSync(
      file,
      `const fs = require('node:fs');\nexports.early = 1;\nfs.writeFileSync(${JSON.stringify(started)}, '');\n` +
        `while (!fs.existsSync(${JSON.stringify(release)})) {}\nexports.value = 42;\n`,
    );
    const running = k.client.execute(`require(${JSON.stringify(file)}).value`);
    await waitForFile(started);
    process.kill(k.child.pid!, 'SIGINT');
    expectInterrupted(await running);
    writeFileSync(release, '');
    // Without the clean-up, require returns the cut-off module's exports: { early: 1 }, no value.
    expect(await evaluate(k, `require(${JSON.stringify(file)}).value`)).toBe('42');
    expect(await evaluate(k, 'keep + 1')).toBe('42');
  });
});

describe('interrupt_request on control', () => {
  it('answers interrupt_reply ok when nothing runs, and the next cell runs', async () => {
    const reply = await k.client.interrupt();
    expect(reply.header.msg_type).toBe('interrupt_reply');
    expect(reply.content).toEqual({ status: 'ok' });
    expect(await evaluate(k, 'keep + 1')).toBe('42');
  });

  it('ends a shell line and every process it started; output so far is kept', async () => {
    const m = marker();
    const running = k.client.execute(`!echo before; touch ${m}; sleep 300 & sleep 301; echo never`);
    await waitForFile(m);
    const shells = await waitForProcesses(() => descendants(k.child.pid!).filter((p) => /^sleep 30[01]$/.test(p.command)), 2);
    await k.client.interrupt(); // before asserting: a failed assertion must not leave the cell running
    expect(shells).toHaveLength(2);
    const r = await running;
    expectInterrupted(r);
    expect(streamOf(r)).toBe('before\n');
    expect(await survivors(shells)).toEqual([]);
  });

  it('ends a %%sh cell and its background jobs', async () => {
    const m = marker();
    const running = k.client.execute(`%%sh\nfor i in 1 2 3; do sleep 300 & done\ntouch ${m}\nwait`);
    await waitForFile(m);
    const jobs = await waitForProcesses(() => descendants(k.child.pid!).filter((p) => p.command === 'sleep 300'), 3);
    await k.client.interrupt();
    expect(jobs).toHaveLength(3);
    expectInterrupted(await running);
    expect(await survivors(jobs)).toEqual([]);
  });

  it('ends %timeit choosing its loop count around a statement that never returns', async () => {
    const m = marker();
    const running = k.client.execute(`%timeit ${touch(m)}; while (true) {}`);
    await waitForFile(m);
    await k.client.interrupt();
    expectInterrupted(await running);
    expect(await evaluate(k, 'keep + 1')).toBe('42');
  });

  it('several interrupts in a row while stuck: one interrupted error, the kernel fine', async () => {
    const m = marker();
    const running = k.client.execute(`${touch(m)};\nwhile (true) {}`);
    await waitForFile(m);
    const replies = await Promise.all([k.client.interrupt(), k.client.interrupt(), k.client.interrupt()]);
    expect(replies.map((r) => r.content.status)).toEqual(['ok', 'ok', 'ok']);
    expectInterrupted(await running);
    expect(await evaluate(k, 'keep + 1')).toBe('42');
  });
});

describe('shutdown_request while a cell never yields', () => {
  it('still gets its shutdown_reply, and the process and its children end', async () => {
    const other = await start({ cwd: dir });
    try {
      const m = marker();
      await evaluate(other, 'require("child_process").spawn("sleep", ["300"], { stdio: "ignore" }).unref();');
      void other.client.execute(`${touch(m)};\nwhile (true) {}`).catch(() => undefined);
      await waitForFile(m);
      const children = descendants(other.child.pid!);
      expect(children.length).toBeGreaterThanOrEqual(1);
      const reply = await other.client.shutdown(false, 15_000);
      expect(reply.content).toMatchObject({ status: 'ok', restart: false });
      expect(await survivors([other.child.pid!], 10_000)).toEqual([]);
      expect(await survivors(children)).toEqual([]);
      expect(isAlive(other.child.pid!)).toBe(false);
    } finally {
      await other.stop();
    }
  });
});

/**
 * Bad input to a running kernel: messages with a wrong or missing signature, or replayed, are
 * dropped and logged and never run (the cell would create a file: it must not exist); malformed
 * frames on shell and control do not hurt it; random magic lines give a one-line UsageError (or a
 * compile error), never a crash; a syntax error is an error reply naming its line.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHeader, serialize, Signer } from '../dist/src/protocol/wire.js';
import { kFuzzSeed, kMagicWords, Random } from './helpers/fuzz.js';
import { evaluate, start, type KernelProcess } from './helpers/kernel.js';
import { isAlive } from './helpers/process-tree.js';
import { waitUntil } from './helpers/wait.js';

let dir: string;
let k: KernelProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tslab-parallel-bad-input-'));
  k = await start({ cwd: dir });
});
afterAll(async () => {
  await k?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const delimiter = Buffer.from('<IDS|MSG>');
const appendTo = (file: string) => `require("fs").appendFileSync(${JSON.stringify(file)}, "ran\\n")`;
const executeContent = (code: string) => ({ code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true });

/** Lines of the kernel's log that say it dropped a message. */
const dropped = () => k.log().split('\n').filter((l) => l.includes('dropped a message'));

/** Sends a correctly signed execute_request that appends to `file`, and waits for it: proves the kernel is fine and got everything sent before. */
async function barrier(file: string): Promise<void> {
  const r = await k.client.execute(appendTo(file) + ';\n"barrier"');
  expect(r.reply.content.status).toBe('ok');
}

describe('signatures', () => {
  it('a message signed with the wrong key is dropped and logged, not run', async () => {
    const file = join(dir, 'wrong-key');
    const before = dropped().length;
    k.client.sendSignedWith('not-the-kernel-key', 'execute_request', executeContent(appendTo(file)));
    await barrier(join(dir, 'barrier-1'));
    await waitUntil(() => dropped().length > before, 'the kernel to log the dropped message');
    expect(existsSync(file)).toBe(false);
    expect(dropped().at(-1)).toContain('dropped a message on shell: message signature does not match');
  });

  it('a message without a signature is dropped and logged, not run', async () => {
    const file = join(dir, 'unsigned');
    const before = dropped().length;
    const header = makeHeader('execute_request', 'intruder', 'nobody');
    k.client.sendRawShell(serialize({ header, parent_header: {}, metadata: {}, content: executeContent(appendTo(file)), buffers: [] }, new Signer('')));
    await barrier(join(dir, 'barrier-2'));
    await waitUntil(() => dropped().length > before, 'the kernel to log the dropped message');
    expect(existsSync(file)).toBe(false);
    expect(dropped().at(-1)).toContain('message has no signature');
  });

  it('a replayed message runs once', async () => {
    const file = join(dir, 'replayed');
    const frames = serialize({ header: makeHeader('execute_request', 'replayer', 'x'), parent_header: {}, metadata: {}, content: executeContent(appendTo(file)), buffers: [] }, new Signer(k.info.key));
    k.client.sendRawShell(frames);
    k.client.sendRawShell(frames);
    await barrier(join(dir, 'barrier-3'));
    await waitUntil(() => dropped().some((l) => l.includes('replayed message')), 'the kernel to log the replay');
    expect(readFileSync(file, 'utf8')).toBe('ran\n');
  });

  it('control: a shutdown_request or interrupt_request with a wrong signature is ignored', async () => {
    const before = dropped().length;
    k.client.sendSignedWith('not-the-kernel-key', 'shutdown_request', { restart: false }, 'control');
    k.client.sendSignedWith('not-the-kernel-key', 'interrupt_request', {}, 'control');
    await waitUntil(() => dropped().length >= before + 2, 'the kernel to log both');
    expect(dropped().slice(before).every((l) => l.includes('on control'))).toBe(true);
    expect(await evaluate(k, '"still here"')).toBe('still here');
    expect(isAlive(k.child.pid!)).toBe(true);
  });
});

describe('malformed frames', () => {
  it('on shell and control: each logged with its reason; the kernel keeps answering', async () => {
    const signer = new Signer(k.info.key);
    const signed = (json: string[]) => {
      const frames = json.map((f) => Buffer.from(f));
      return [delimiter, Buffer.from(signer.sign(frames)), ...frames];
    };
    const header = (type: string) => JSON.stringify(makeHeader(type, 'fuzzer', 'x'));
    const bad: Buffer[][] = [
      [Buffer.from('just one frame')],
      [delimiter],
      [delimiter, Buffer.from('sig'), Buffer.from('{}')],
      signed(['not json', '{}', '{}', '{}']),
      signed(['[]', '{}', '{}', '{}']),
      signed(['{"msg_id":"x"}', '{}', '{}', '{}']),
      // well-formed but with content of the wrong shape: handled, not fatal
      signed([header('execute_request'), '{}', '{}', JSON.stringify({ code: 42, user_expressions: 'x', silent: 'yes' })]),
      signed([header('complete_request'), '{}', '{}', JSON.stringify({ code: null, cursor_pos: 'x' })]),
      signed([header('inspect_request'), '{}', '{}', JSON.stringify({ code: 'Math', cursor_pos: 1e9 })]),
      signed([header('history_request'), '{}', '{}', JSON.stringify({ hist_access_type: 'search', pattern: 5, n: 'all' })]),
      signed([header('is_complete_request'), '{}', '{}', JSON.stringify({ code: { nested: true } })]),
      signed([header('no_such_request'), '{}', '{}', '{}']),
    ];
    const before = dropped().length;
    for (const frames of bad) {
      k.client.sendRawShell(frames);
      k.client.sendRawControl(frames);
    }
    const rnd = new Random(kFuzzSeed);
    for (let i = 0; i < 200; i++) {
      const frames = Array.from({ length: rnd.int(0, 8) }, () => (rnd.chance(0.2) ? delimiter : rnd.bytes(rnd.int(0, 48))));
      k.client.sendRawShell(frames);
    }
    await waitUntil(() => dropped().length >= before + 12, 'the kernel to log the malformed messages');
    expect(dropped().slice(before).join('\n')).toMatch(/no <IDS\|MSG> delimiter[\s\S]*frames after the delimiter[\s\S]*not valid JSON[\s\S]*not a JSON object[\s\S]*lacks msg_type or msg_id/);
    expect(await evaluate(k, '6 * 7')).toBe('42');
    const reply = await k.client.request('shell', 'complete_request', { code: 'Math.fl', cursor_pos: 7 });
    expect(reply.content.matches).toContain('floor');
    expect(isAlive(k.child.pid!)).toBe(true);
  });
});

describe('bad cells', () => {
  it('a syntax error gets an error reply that names its line', async () => {
    const r = await k.client.execute('const fine = 1;\n\nconst broken = fine +;\n');
    expect(r.reply.content.status).toBe('error');
    expect(r.reply.content.ename).toBe('CompileError');
    expect(r.reply.content.evalue).toMatch(/^In\[\d+\], line 3: Expression expected\./);
  });

  it(`random magic lines (seed ${kFuzzSeed}): ok, a one-line UsageError or a compile error; never a crash`, async () => {
    const rnd = new Random(kFuzzSeed + 3);
    const names = ['time', 'timeit', 'env', 'lsmagic', 'tiem', 'nosuch', 'timeit?', 'env?'];
    const enames = new Set<string>();
    for (let i = 0; i < 60; i++) {
      // no %%sh and no !: random text must not become a shell command
      const prefix = rnd.pick(['%', '%', '%%', '?%']);
      const args = Array.from({ length: rnd.int(0, 4) }, () => (rnd.chance(0.8) ? rnd.pick(kMagicWords) : rnd.string(rnd.int(1, 5), 'abcxyz-=.0123'))).join(' ');
      const code = `${prefix}${rnd.pick(names)} ${args}`.replace(/^%%(\w+)(.*)$/, '%%$1$2\n1');
      const r = await k.client.execute(code, { stopOnError: false, timeoutMs: 20_000 }).catch(async (err: Error) => {
        await k.client.interrupt(); // a statement that happens to loop: stop it, and report
        throw new Error(`${JSON.stringify(code)}: ${err.message}`);
      });
      if (r.reply.content.status === 'ok') continue;
      const ename = String(r.reply.content.ename);
      enames.add(ename);
      expect(['UsageError', 'CompileError', 'ReferenceError', 'SyntaxError', 'TypeError'], `${JSON.stringify(code)} -> ${ename}: ${String(r.reply.content.evalue)}`).toContain(ename);
      if (ename === 'UsageError') {
        expect(r.reply.content.traceback).toHaveLength(1);
        expect(String(r.reply.content.evalue)).not.toContain('\n');
      }
    }
    expect(enames.has('UsageError')).toBe(true);
    expect(await evaluate(k, '"alive"')).toBe('alive');
  });
});

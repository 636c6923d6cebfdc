/**
 * The messaging protocol as Debian's jupyter_client sees it: kernel_info, the iopub sequence of
 * an execution (busy, execute_input, stream, display_data, update_display_data, execute_result,
 * idle), errors whose tracebacks name the cell's lines, execute_reply ok/error/aborted with
 * stop_on_error, silent and store_history, is_complete, complete, inspect, comm_info, history,
 * heartbeat (also while a cell is stuck), and shutdown_request with restart.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJupyterEnv, kKernelName, kRepoRoot, type JupyterEnv } from './helpers/jupyter-env.js';
import { isAlive, survivors } from './helpers/process-tree.js';
import { msgTypes, PyKernelClient, resultText, type PyExecution } from './helpers/py-client.js';
import { tracebackText } from './helpers/text.js';
import { touch, waitForFile } from './helpers/wait.js';

let env: JupyterEnv;
let kc: PyKernelClient;

beforeAll(async () => {
  env = createJupyterEnv();
  kc = await PyKernelClient.start(env, kKernelName, env.dir);
});
afterAll(async () => {
  await kc?.quit();
  env?.cleanup();
});

const version = (pkgJson: string) => (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;

function checkerTypescriptVersion(): string {
  const tslab = dirname(require.resolve('tslab/package.json', { paths: [kRepoRoot] }));
  return version(require.resolve('@tslab/typescript-for-tslab/package.json', { paths: [tslab] }));
}

/** Every iopub message of an execution answers that request. */
function expectParented(r: PyExecution): void {
  expect(r.reply.parent_header.msg_id).toBe(r.msg_id);
  for (const m of r.iopub) expect(m.parent_header.msg_id).toBe(r.msg_id);
}

describe('kernel_info', () => {
  it('describes the implementation and TypeScript as the engine checks it, with help links', async () => {
    const { reply } = await kc.call<{ reply: { header: { msg_type: string }; content: Record<string, any> } }>({ op: 'kernel_info' });
    expect(reply.header.msg_type).toBe('kernel_info_reply');
    const c = reply.content;
    expect(c.status).toBe('ok');
    expect(c.protocol_version).toBe('5.3');
    expect(c.implementation).toBe('tslab-parallel');
    expect(c.implementation_version).toBe(version(join(kRepoRoot, 'package.json')));
    expect(c.language_info).toMatchObject({ name: 'typescript', version: checkerTypescriptVersion(), file_extension: '.ts', mimetype: 'text/typescript' });
    expect(c.banner).toContain(`TypeScript ${checkerTypescriptVersion()}`);
    expect(c.help_links.length).toBeGreaterThan(0);
    for (const link of c.help_links) {
      expect(link.text).toEqual(expect.any(String));
      expect(link.url).toMatch(/^https:\/\//);
    }
  });
});

describe('execute_request', () => {
  it('publishes busy, execute_input, streams, displays, their update and the result, then idle', async () => {
    const code = [
      'console.log("to stdout");',
      'console.error("to stderr");',
      'const h = display("first", { id: "progress" });',
      'h.update("second");',
      '40 + 2',
    ].join('\n');
    const r = await kc.execute(code);
    expectParented(r);
    expect(msgTypes(r)).toEqual([
      'status:busy', 'execute_input', 'stream', 'stream', 'display_data', 'update_display_data', 'execute_result', 'status:idle',
    ]);
    const [, input, out, err, shown, updated, result] = r.iopub;
    const count = r.reply.content.execution_count;
    expect(r.reply.content.status).toBe('ok');
    expect(input.content).toEqual({ code, execution_count: count });
    expect(out.content).toEqual({ name: 'stdout', text: 'to stdout\n' });
    expect(err.content).toEqual({ name: 'stderr', text: 'to stderr\n' });
    expect(shown.content.data['text/plain']).toBe('first');
    expect(shown.content.transient).toEqual({ display_id: 'progress' });
    expect(updated.content.data['text/plain']).toBe('second');
    expect(updated.content.transient).toEqual({ display_id: 'progress' });
    expect(result.content).toMatchObject({ execution_count: count, data: { 'text/plain': '42' } });
  });

  it('counts executions: each stored cell gets the next execution_count', async () => {
    const a = await kc.execute('1');
    const b = await kc.execute('2');
    expect(b.reply.content.execution_count).toBe(a.reply.content.execution_count + 1);
  });

  it('reports a runtime error with ename, evalue and a traceback that names the cell lines', async () => {
    const code = ['function inner(n: number) {', '  if (n > 1) {', '    throw new RangeError(`too big: ${n}`);', '  }', '}', 'inner(5);'].join('\n');
    const r = await kc.execute(code);
    expectParented(r);
    expect(msgTypes(r)).toEqual(['status:busy', 'execute_input', 'error', 'status:idle']);
    const count = r.reply.content.execution_count;
    expect(r.reply.content).toMatchObject({ status: 'error', ename: 'RangeError', evalue: 'too big: 5' });
    const error = r.iopub[2].content;
    expect(error).toMatchObject({ ename: 'RangeError', evalue: 'too big: 5' });
    const tb = tracebackText(error.traceback);
    expect(tb).toContain(`at inner (In[${count}]:3:11)`);
    expect(tb).toContain(`In[${count}]:6:`);
    expect(tb).toMatch(/----> 3 +throw new RangeError/);
    expect(tb).not.toContain('dist/src'); // the kernel's own frames are not the user's business
  });

  it('reports a syntax error naming its line', async () => {
    const r = await kc.execute('const ok = 1;\nconst broken = (1 + ;\n');
    expect(r.reply.content.status).toBe('error');
    expect(r.reply.content.evalue).toMatch(/line 2/);
    expect(tracebackText(r.reply.content.traceback)).toMatch(/:2:\d+ - error TS1109: Expression expected/);
  });

  it('stop_on_error: requests queued behind a failing cell are aborted, later ones run', async () => {
    // The first cell fails only once the kernel has surely received the other two: a
    // kernel_info_request sent after them on the same socket has been answered.
    const go = join(env.dir, 'stop-on-error-go');
    const ids = [];
    ids.push(await kc.send(`await new Promise<void>((resolve) => {\n  const t = setInterval(() => require("fs").existsSync(${JSON.stringify(go)}) && (clearInterval(t), resolve()), 10);\n});\nthrow new Error("first fails");`));
    ids.push(await kc.send('const queuedA = 1;'));
    ids.push(await kc.send('const queuedB = 2;'));
    await kc.call({ op: 'kernel_info' });
    writeFileSync(go, '');
    const [first, a, b] = await Promise.all(ids.map((id) => kc.wait(id)));
    expect(first.reply.content.status).toBe('error');
    for (const aborted of [a, b]) {
      expect(aborted.reply.content.status).toBe('aborted');
      expect(msgTypes(aborted)).toEqual(['status:busy', 'status:idle']);
    }
    const after = await kc.execute('typeof queuedA');
    expect(after.reply.content.status).toBe('error'); // never declared: the aborted cell did not run
    expect(after.reply.content.evalue).toContain("Cannot find name 'queuedA'");
    expect(resultText(await kc.execute('"runs again"'))).toBe('runs again');
  });

  it('stop_on_error false: the next queued request still runs', async () => {
    const first = kc.call<PyExecution>({ op: 'execute', code: 'throw new Error("tolerated")', stop_on_error: false, wait: false });
    const second = kc.send('"still runs"');
    const [f, s] = await Promise.all([first, second]);
    expect((await kc.wait(f.msg_id)).reply.content.status).toBe('error');
    expect(resultText(await kc.wait(s))).toBe('still runs');
  });

  it('silent: no execute_input, no execute_result, no count, no history', async () => {
    const before = (await kc.execute('"before"')).reply.content.execution_count;
    const s = await kc.execute('const silentValue = 7;\nsilentValue', { silent: true });
    expect(s.reply.content.status).toBe('ok');
    expect(msgTypes(s)).not.toContain('execute_input');
    expect(msgTypes(s)).not.toContain('execute_result');
    const next = await kc.execute('silentValue + 1'); // but it did run
    expect(resultText(next)).toBe('8');
    expect(next.reply.content.execution_count).toBe(before + 1);
    const history = await kc.request('shell', 'history_request', { hist_access_type: 'tail', n: 3, output: false, raw: true });
    expect(history.reply.content.history.map((h: unknown[]) => h[2])).not.toContain('const silentValue = 7;\nsilentValue');
  });

  it('store_history false: the cell runs and shows its result, without a count or a history entry', async () => {
    const before = (await kc.execute('"before"')).reply.content.execution_count;
    const r = await kc.execute('"not stored"', { storeHistory: false });
    expect(resultText(r)).toBe('not stored');
    const next = await kc.execute('"stored"');
    expect(next.reply.content.execution_count).toBe(before + 1);
    const history = await kc.request('shell', 'history_request', { hist_access_type: 'tail', n: 3, output: false, raw: true });
    const inputs = history.reply.content.history.map((h: unknown[]) => h[2]);
    expect(inputs).toContain('"stored"');
    expect(inputs).not.toContain('"not stored"');
  });
});

describe('is_complete, complete, inspect, comm_info', () => {
  it('is_complete: complete, incomplete with an indent, invalid', async () => {
    const status = async (code: string) => (await kc.request('shell', 'is_complete_request', { code })).reply.content;
    expect(await status('const x = 1;')).toEqual({ status: 'complete' });
    expect(await status('%time 1 + 1')).toEqual({ status: 'complete' });
    expect(await status('function f() {')).toEqual({ status: 'incomplete', indent: '  ' });
    expect((await status('const o = {\n  a: 1,')).status).toBe('incomplete');
    expect(await status('1 +* 2')).toEqual({ status: 'invalid' });
  });

  it('complete: TypeScript members, names of earlier cells, magics', async () => {
    await kc.execute('const myLongVariableName = 1;');
    const complete = async (code: string, cursor = code.length) =>
      (await kc.request('shell', 'complete_request', { code, cursor_pos: cursor })).reply;
    const math = await complete('Math.fl');
    expect(math.header.msg_type).toBe('complete_reply');
    expect(math.content).toMatchObject({ status: 'ok', cursor_start: 5, cursor_end: 7 });
    expect(math.content.matches).toContain('floor');
    expect((await complete('myLongVar')).content.matches).toContain('myLongVariableName');
    expect((await complete('%tim')).content.matches).toEqual(['%time', '%timeit']);
    expect((await complete('%timeit --rep')).content.matches).toEqual(['--repeat']);
  });

  it('inspect: the type and documentation at the cursor; found false where there is nothing', async () => {
    const inspect = async (code: string, cursor: number) =>
      (await kc.request('shell', 'inspect_request', { code, cursor_pos: cursor, detail_level: 0 })).reply;
    const r = await inspect('Math.floor(2.5)', 7);
    expect(r.header.msg_type).toBe('inspect_reply');
    expect(r.content.status).toBe('ok');
    expect(r.content.found).toBe(true);
    expect(r.content.data['text/plain']).toContain('floor(x: number): number');
    expect((await inspect('%timeit', 3)).content.data['text/plain']).toContain('Usage: %timeit');
    expect((await inspect('   ', 1)).content).toMatchObject({ status: 'ok', found: false });
  });

  it('comm_info: a comm_info_reply with no comms', async () => {
    const r = await kc.request('shell', 'comm_info_request', {});
    expect(r.reply.header.msg_type).toBe('comm_info_reply');
    expect(r.reply.content).toEqual({ status: 'ok', comms: {} });
  });
});

describe('history_request', () => {
  it('tail, range, search (with unique and n), and (input, output) pairs when asked', async () => {
    const codes = ['"h-one"', '"h-two"', '"h-one"'];
    const counts: number[] = [];
    for (const c of codes) counts.push((await kc.execute(c)).reply.content.execution_count);
    const history = async (content: Record<string, unknown>) =>
      (await kc.request('shell', 'history_request', { output: false, raw: true, ...content })).reply.content.history as unknown[][];

    const tail = await history({ hist_access_type: 'tail', n: 3 });
    expect(tail.map((h) => h[2])).toEqual(codes);
    expect(tail.map((h) => h[1])).toEqual(counts);
    const [session] = tail[0] as [number];

    const range = await history({ hist_access_type: 'range', session, start: counts[1], stop: counts[1] + 1 });
    expect(range).toEqual([[session, counts[1], '"h-two"']]);

    expect((await history({ hist_access_type: 'search', pattern: '"h-*' })).length).toBeGreaterThanOrEqual(3);
    expect((await history({ hist_access_type: 'search', pattern: '"h-one"', unique: true })).map((h) => h[2])).toEqual(['"h-one"']);
    expect(await history({ hist_access_type: 'search', pattern: '"h-*', n: 2 })).toHaveLength(2);

    const withOutput = await history({ hist_access_type: 'tail', n: 1, output: true });
    expect(withOutput).toHaveLength(1);
    expect(withOutput[0][2]).toEqual(['"h-one"', null]);
  });
});

describe('heartbeat', () => {
  it('echoes pings, also while a cell keeps the main thread busy', async () => {
    const idle = await kc.heartbeat();
    expect(idle.echo).toBe(idle.sent);
    const marker = join(env.dir, 'hb-busy');
    const id = await kc.send(`${touch(marker)};\nwhile (true) {}`);
    await waitForFile(marker);
    const busy = await kc.heartbeat();
    expect(busy.echo).toBe(busy.sent);
    await kc.call({ op: 'interrupt' });
    expect((await kc.wait(id)).reply.content.ename).toBe('KeyboardInterrupt');
  });
});

describe('shutdown_request with restart', () => {
  it('answers restart: true on control and the process ends (the manager starts the next one)', async () => {
    const pid = kc.pid;
    const r = await kc.request('control', 'shutdown_request', { restart: true });
    expect(r.reply.header.msg_type).toBe('shutdown_reply');
    expect(r.reply.content).toMatchObject({ status: 'ok', restart: true });
    expect(await survivors([pid], 10_000)).toEqual([]);
    expect(isAlive(pid)).toBe(false);
  });
});

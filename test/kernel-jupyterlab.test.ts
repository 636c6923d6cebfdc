/**
 * What JupyterLab does, with JupyterLab's own client library (@jupyterlab/services 7) against a
 * real `jupyter server` (Debian's jupyter_server 1.x) that this test starts on 127.0.0.1 with a
 * random port and token: list kernelspecs, open a notebook session with this kernel, execute
 * (iopub messages in order), interrupt a stuck cell, restart, shut down — and no kernel
 * process is left once the server has stopped.
 */
import { KernelSpecManager, KernelManager, ServerConnection, SessionManager, type Kernel, type KernelMessage, type Session } from '@jupyterlab/services';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJupyterEnv, kKernelName, type JupyterEnv } from './helpers/jupyter-env.js';
import { startJupyterServer, type JupyterServer } from './helpers/jupyter-server.js';
import { descendants, isAlive, survivors, type ProcessId } from './helpers/process-tree.js';
import { touch, waitForFile, waitUntil } from './helpers/wait.js';

let env: JupyterEnv;
let server: JupyterServer;
let settings: ServerConnection.ISettings;
let kernelManager: KernelManager;
let sessionManager: SessionManager;
let session: Session.ISessionConnection;
let kernel: Kernel.IKernelConnection;
const kernelProcesses: ProcessId[] = [];

beforeAll(async () => {
  env = createJupyterEnv();
  server = await startJupyterServer(env, env.dir);
  settings = ServerConnection.makeSettings({
    baseUrl: server.baseUrl,
    wsUrl: server.wsUrl,
    token: server.token,
    appendToken: true,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    fetch: globalThis.fetch,
    Request: globalThis.Request,
    Headers: globalThis.Headers,
  });
  kernelManager = new KernelManager({ serverSettings: settings });
  sessionManager = new SessionManager({ kernelManager, serverSettings: settings });
  await sessionManager.ready;
});

afterAll(async () => {
  sessionManager?.dispose();
  kernelManager?.dispose();
  await server?.stop();
  env?.cleanup();
});

interface Run {
  reply: KernelMessage.IExecuteReplyMsg;
  iopub: KernelMessage.IIOPubMessage[];
}

async function run(code: string, onIOPub?: (msg: KernelMessage.IIOPubMessage) => void): Promise<Run> {
  const iopub: KernelMessage.IIOPubMessage[] = [];
  const future = kernel.requestExecute({ code });
  future.onIOPub = (msg) => {
    iopub.push(msg);
    onIOPub?.(msg);
  };
  const reply = await future.done;
  return { reply, iopub };
}

const types = (r: Run) => r.iopub.map((m) => (m.header.msg_type === 'status' ? `status:${(m.content as { execution_state: string }).execution_state}` : m.header.msg_type));
const result = (r: Run) => (r.iopub.find((m) => m.header.msg_type === 'execute_result')?.content as { data?: Record<string, string> } | undefined)?.data?.['text/plain'];

async function kernelPid(): Promise<ProcessId> {
  const pid = Number(result(await run('process.pid')));
  const found = descendants(server.pid).find((p) => p.pid === pid);
  if (!found) throw new Error(`the kernel (pid ${pid}) is not a child of the server`);
  return found;
}

describe('@jupyterlab/services against jupyter_server', () => {
  it('lists the kernelspec as JupyterLab\'s launcher does', async () => {
    const specs = new KernelSpecManager({ serverSettings: settings });
    await specs.ready;
    const spec = specs.specs?.kernelspecs[kKernelName];
    specs.dispose();
    expect(spec).toMatchObject({ name: kKernelName, display_name: 'TypeScript (parallel)', language: 'typescript' });
    expect(Object.keys(spec?.resources ?? {})).toEqual(expect.arrayContaining(['logo-32x32', 'logo-64x64']));
  });

  it('opens a notebook session with this kernel and gets its kernel_info', async () => {
    session = await sessionManager.startNew({ path: 'lab.ipynb', type: 'notebook', name: 'lab.ipynb', kernel: { name: kKernelName } });
    kernel = session.kernel!;
    expect(kernel.name).toBe(kKernelName);
    const info = await kernel.info;
    expect(info.implementation).toBe('tslab-parallel');
    expect(info.language_info.name).toBe('typescript');
    await waitUntil(() => kernel.connectionStatus === 'connected', 'the kernel websocket to connect');
    kernelProcesses.push(await kernelPid());
  });

  it('executes: status busy, execute_input, stream, display_data, execute_result, status idle, in order', async () => {
    const statuses: string[] = [];
    const onStatus = (_: unknown, status: Kernel.Status) => {
      statuses.push(status);
    };
    kernel.statusChanged.connect(onStatus);
    const r = await run('const labValue = 21;\nconsole.log("hello from lab");\ndisplay.html("<i>lab</i>");\nlabValue * 2');
    await waitUntil(() => kernel.status === 'idle', 'the kernel status to be idle');
    kernel.statusChanged.disconnect(onStatus);
    expect(types(r)).toEqual(['status:busy', 'execute_input', 'stream', 'display_data', 'execute_result', 'status:idle']);
    expect(r.reply.content.status).toBe('ok');
    const count = r.reply.content.execution_count;
    expect((r.iopub[1].content as { execution_count: number }).execution_count).toBe(count);
    expect((r.iopub[2].content as { text: string }).text).toBe('hello from lab\n');
    expect((r.iopub[3].content as { data: Record<string, string> }).data['text/html']).toBe('<i>lab</i>');
    expect(result(r)).toBe('42');
    expect((r.iopub[4].content as { execution_count: number }).execution_count).toBe(count);
    expect(statuses.indexOf('busy')).toBeGreaterThanOrEqual(0);
    expect(statuses.lastIndexOf('idle')).toBeGreaterThan(statuses.indexOf('busy'));
  });

  it('interrupts a stuck cell (interrupt_request through the server); the kernel keeps its state', async () => {
    const marker = join(env.dir, 'lab-stuck');
    const future = kernel.requestExecute({ code: `${touch(marker)};\nwhile (true) {}` });
    const iopub: KernelMessage.IIOPubMessage[] = [];
    future.onIOPub = (m) => {
      iopub.push(m);
    };
    await waitForFile(marker);
    await kernel.interrupt();
    const reply = await future.done;
    expect(reply.content.status).toBe('error');
    expect((reply.content as KernelMessage.IReplyErrorContent).ename).toBe('KeyboardInterrupt');
    expect(iopub.some((m) => m.header.msg_type === 'error')).toBe(true);
    expect(result(await run('labValue + 1'))).toBe('22');
  });

  it('answers the notebook\'s and console\'s side requests: complete, inspect, is_complete, history, comm_info', async () => {
    const complete = await kernel.requestComplete({ code: 'Math.fl', cursor_pos: 7 });
    expect(complete.content).toMatchObject({ status: 'ok', cursor_start: 5, cursor_end: 7 });
    expect((complete.content as KernelMessage.ICompleteReplyMsg['content'] & { matches: string[] }).matches).toContain('floor');
    const inspect = await kernel.requestInspect({ code: 'labValue', cursor_pos: 3, detail_level: 0 });
    expect((inspect.content as KernelMessage.IInspectReplyMsg['content'] & { data: Record<string, string> }).data['text/plain']).toContain('const labValue: 21');
    expect((await kernel.requestIsComplete({ code: 'if (labValue) {' })).content).toMatchObject({ status: 'incomplete' });
    const history = await kernel.requestHistory({ hist_access_type: 'tail', n: 1, output: false, raw: true });
    expect((history.content as KernelMessage.IHistoryReplyMsg['content'] & { history: unknown[] }).history).toHaveLength(1);
    const comms = await kernel.requestCommInfo({});
    expect(comms.header.msg_type).toBe('comm_info_reply');
    expect(comms.content).toMatchObject({ status: 'ok', comms: {} });
  });

  it('restarts: a new kernel process, the old one gone, an empty namespace, counting from 1', async () => {
    const before = kernelProcesses.at(-1)!;
    await kernel.restart();
    await waitUntil(() => kernel.connectionStatus === 'connected' && kernel.status === 'idle', 'the restarted kernel to be idle');
    expect(await survivors([before])).toEqual([]);
    const gone = await run('labValue');
    expect(gone.reply.content.status).toBe('error');
    expect((gone.reply.content as KernelMessage.IReplyErrorContent).evalue).toContain("Cannot find name 'labValue'");
    const after = await kernelPid();
    expect(after.pid).not.toBe(before.pid);
    kernelProcesses.push(after);
    const fresh = await run('1 + 1');
    expect(result(fresh)).toBe('2');
    expect(fresh.reply.content.execution_count).toBe(3);
  });

  it('shuts the session down; after the server stops no kernel process is left', async () => {
    await session.shutdown();
    const sessions = await server.api<unknown[]>('api/sessions');
    expect(sessions).toEqual([]);
    expect(await server.api<unknown[]>('api/kernels')).toEqual([]);
    expect(await survivors(kernelProcesses)).toEqual([]);
    const serverChildren = descendants(server.pid);
    await server.stop();
    expect(isAlive(server.pid)).toBe(false);
    expect(await survivors(serverChildren)).toEqual([]);
  });
});

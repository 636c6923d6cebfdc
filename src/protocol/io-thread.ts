/**
 * The kernel's I/O thread (a worker_threads entry point). It owns every ZeroMQ socket:
 * it verifies and parses incoming messages, answers heartbeats, kernel_info and interrupt
 * requests itself, forwards the rest to the main thread, and sends what main asks it to.
 * Because it never runs user code, the kernel keeps answering while a cell is busy.
 */
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import * as zmq from 'zeromq';
import { killDescendants } from './children.js';
import { endpoint, readConnectionFile } from './connection.js';
import { Interrupter } from './interrupter.js';
import { ExecState, SharedSlot, type IoThreadData, type ToIo, type ToMain } from './io-messages.js';
import type { Channel, IncomingMessage, Message, MessageHeader } from './messages.js';
import { SendQueue } from './send-queue.js';
import { watchSigint } from './sigint.js';
import { StreamCoalescer } from './stream-coalescer.js';
import { makeHeader, parse, serialize, Signer, WireError } from './wire.js';

const kShutdownGraceMs = 5000;

const data = workerData as IoThreadData;
const port = parentPort!;
const shared = new Int32Array(data.shared);
const info = readConnectionFile(data.connectionFile);
const signer = new Signer(info.key, info.signature_scheme);

const shell = new zmq.Router();
const control = new zmq.Router();
const stdin = new zmq.Router();
const iopub = new zmq.Publisher();
const heartbeat = new zmq.Reply();
const queues = { shell: new SendQueue(shell), control: new SendQueue(control), iopub: new SendQueue(iopub) };

interface Pending {
  channel: 'shell' | 'control';
  identities: Buffer[];
  header: MessageHeader;
}
const pending = new Map<number, Pending>();
let nextToken = 1;
let shutdownRequest: Pending | null = null;
let closing = false;

const toMain = (m: ToMain): void => port.postMessage(m);
const log = (text: string): void => {
  writeSync(2, `[tslab-parallel kernel] ${text}\n`);
};

const interrupter = new Interrupter(shared, (seq) => toMain({ t: 'interrupt', seq }), log);
const stopWatchingSigint = watchSigint(() => void interrupter.interrupt());

const streams = new StreamCoalescer((parent, name, text) => publish(parent, 'stream', { name, text }));

function send(channel: 'shell' | 'control' | 'iopub', msg: Message, identities: Buffer[] = []): void {
  queues[channel].send(serialize(msg, signer, identities));
}

function message(msgType: string, parent: MessageHeader | null, content: Record<string, unknown>, metadata: Record<string, unknown> = {}): Message {
  return { header: makeHeader(msgType, data.session), parent_header: parent ?? {}, metadata, content, buffers: [] };
}

function publish(parent: MessageHeader | null, msgType: string, content: Record<string, unknown>, metadata?: Record<string, unknown>): void {
  const topic = msgType === 'stream' ? `stream.${String(content.name)}` : msgType;
  send('iopub', message(msgType, parent, content, metadata), [Buffer.from(`kernel.${data.session}.${topic}`)]);
}

function reply(to: Pending, msgType: string, content: Record<string, unknown>, metadata?: Record<string, unknown>): void {
  send(to.channel, message(msgType, to.header, content, metadata), to.identities);
}

function handleIncoming(channel: 'shell' | 'control', frames: Buffer[]): void {
  let msg: IncomingMessage;
  try {
    msg = parse(frames, signer);
  } catch (err) {
    if (err instanceof WireError) {
      log(`dropped a message on ${channel}: ${err.message}`);
      return;
    }
    throw err;
  }
  const from: Pending = { channel, identities: msg.identities, header: msg.header };
  switch (msg.header.msg_type) {
    case 'kernel_info_request': {
      // Answered here, so clients connect at once even while a cell runs. Status messages
      // only when main is idle: an "idle" now would tell the UI a running cell had finished.
      const idle = Atomics.load(shared, SharedSlot.ExecState) === ExecState.Idle;
      if (idle) publish(msg.header, 'status', { execution_state: 'busy' });
      reply(from, 'kernel_info_reply', data.kernelInfo);
      if (idle) publish(msg.header, 'status', { execution_state: 'idle' });
      return;
    }
    case 'interrupt_request':
      void interrupter.interrupt().then(() => reply(from, 'interrupt_reply', { status: 'ok' }));
      return;
    case 'shutdown_request': {
      if (shutdownRequest) return;
      shutdownRequest = from;
      const restart = msg.content.restart === true;
      toMain({ t: 'shutdown', restart });
      // A main thread stuck in user code cannot clean up: cut it off, then give up waiting.
      setTimeout(() => void interrupter.interrupt(), kShutdownGraceMs / 2).unref();
      setTimeout(() => finishShutdown(restart, true), kShutdownGraceMs).unref();
      return;
    }
    default: {
      const token = nextToken++;
      pending.set(token, from);
      const { identities: _ids, ...plain } = msg;
      toMain({ t: 'request', token, channel, msg: plain, receivedAt: performance.timeOrigin + performance.now() });
    }
  }
}

function fromMain(m: ToIo): void {
  switch (m.t) {
    case 'batch':
      for (const item of m.items) fromMain(item);
      return;
    case 'stream':
      streams.add(m.parent, m.name, m.text);
      return;
    case 'iopub':
      streams.flush();
      publish(m.parent, m.msgType, m.content, m.metadata);
      return;
    case 'reply': {
      streams.flush();
      const to = pending.get(m.token);
      if (!to) return;
      pending.delete(m.token);
      reply(to, m.msgType, m.content, m.metadata);
      return;
    }
    case 'shutdown-done':
      finishShutdown(m.restart, false);
      return;
    case 'close':
      void closeAll();
      return;
  }
}

function finishShutdown(restart: boolean, forced: boolean): void {
  if (closing || !shutdownRequest) return;
  if (forced) log('the main thread did not finish shutting down in time; closing anyway');
  streams.flush();
  reply(shutdownRequest, 'shutdown_reply', { status: 'ok', restart });
  void closeAll(forced);
}

async function closeAll(forced = false): Promise<void> {
  if (closing) return;
  closing = true;
  streams.flush();
  stopWatchingSigint?.();
  await Promise.race([
    Promise.all([queues.shell.flushed(), queues.control.flushed(), queues.iopub.flushed()]),
    new Promise((r) => setTimeout(r, 1000)),
  ]);
  for (const s of [shell, control, stdin, iopub, heartbeat]) {
    s.linger = 200;
    s.close();
  }
  toMain({ t: 'closed' });
  // If main is wedged it cannot exit by itself; this thread ends the process.
  if (forced) {
    setTimeout(() => {
      killDescendants(); // main cannot end them; they must not outlive the kernel
      process.kill(process.pid, 'SIGKILL');
    }, 500);
  }
}

async function serve(channel: Channel, socket: zmq.Router): Promise<void> {
  try {
    for await (const frames of socket) handleIncoming(channel as 'shell' | 'control', frames);
  } catch (err) {
    if (!closing) log(`${channel} socket failed: ${(err as Error).message}`);
  }
}

async function serveHeartbeat(): Promise<void> {
  try {
    for await (const frames of heartbeat) await heartbeat.send(frames);
  } catch (err) {
    if (!closing) log(`heartbeat socket failed: ${(err as Error).message}`);
  }
}

async function drainStdin(): Promise<void> {
  // input_request is not supported (allow_stdin is reported false); replies are discarded.
  try {
    for await (const _ of stdin) void _;
  } catch {
    /* closed */
  }
}

async function main(): Promise<void> {
  try {
    await Promise.all([
      shell.bind(endpoint(info, 'shell_port')),
      control.bind(endpoint(info, 'control_port')),
      stdin.bind(endpoint(info, 'stdin_port')),
      iopub.bind(endpoint(info, 'iopub_port')),
      heartbeat.bind(endpoint(info, 'hb_port')),
    ]);
  } catch (err) {
    toMain({ t: 'fatal', message: `cannot listen on the ports of ${data.connectionFile}: ${(err as Error).message}` });
    return;
  }
  port.on('message', fromMain);
  toMain({ t: 'listening' });
  // Tells clients that are already subscribed that the kernel is up, as ipykernel does.
  publish(null, 'status', { execution_state: 'starting' });
  void serve('shell', shell);
  void serve('control', control);
  void serveHeartbeat();
  void drainStdin();
}

void main();

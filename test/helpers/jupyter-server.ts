/**
 * A real `jupyter server` (Debian's jupyter_server) for a test: on 127.0.0.1, a free port, a
 * random token, in the test's Jupyter environment, serving `rootDir`. `stop()` ends it (it shuts
 * its kernels down) and waits for the process to exit. `app: 'notebook'` starts Debian's classic
 * Jupyter Notebook (6.4, its own server with the NotebookApp options) the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { JupyterEnv } from './jupyter-env.js';
import { freePorts } from '../../dist/src/protocol/connection.js';

export interface JupyterServer {
  readonly baseUrl: string;
  readonly wsUrl: string;
  readonly token: string;
  readonly pid: number;
  /** The server's log so far. */
  log(): string;
  /** GET/POST a REST endpoint with the token. */
  api<T = unknown>(path: string, init?: RequestInit): Promise<T>;
  stop(): Promise<void>;
}

const kApps = {
  server: { command: '/usr/bin/jupyter-server', options: 'ServerApp', rootDir: 'root_dir' },
  notebook: { command: '/usr/bin/jupyter-notebook', options: 'NotebookApp', rootDir: 'notebook_dir' },
} as const;
export type JupyterApp = keyof typeof kApps;

async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}

export async function startJupyterServer(env: JupyterEnv, rootDir: string, timeoutMs = 60_000, app: JupyterApp = 'server'): Promise<JupyterServer> {
  const { command, options: o, rootDir: rootOption } = kApps[app];
  const token = randomBytes(24).toString('hex');
  // A port that another process takes between here and the server's bind makes it fail to
  // start (port_retries=0 keeps the URL known): try again with another.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      command,
      [
        '--no-browser',
        '--allow-root', // CI containers run as root; harmless otherwise
        `--${o}.ip=127.0.0.1`,
        `--${o}.port=${port}`,
        `--${o}.port_retries=0`,
        `--${o}.token=${token}`,
        `--${o}.password=`,
        `--${o}.${rootOption}=${rootDir}`,
        `--${o}.open_browser=False`,
      ],
      { env: env.env, cwd: rootDir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    child.stdout!.setEncoding('utf8').on('data', (t: string) => (log += t));
    child.stderr!.setEncoding('utf8').on('data', (t: string) => (log += t));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const baseUrl = `http://127.0.0.1:${port}/`;
    const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
      const r = await fetch(new URL(path, baseUrl), { ...init, headers: { Authorization: `token ${token}`, ...(init.headers ?? {}) } });
      if (!r.ok) throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${r.status} ${await r.text()}`);
      return (await r.json()) as T;
    };
    const ready = await waitReady(child, api, timeoutMs);
    if (!ready) {
      child.kill('SIGKILL');
      await exited;
      if (attempt < 2 && /address already in use/i.test(log)) continue;
      throw new Error(`jupyter ${app} did not start:\n${log}`);
    }
    return {
      baseUrl,
      wsUrl: `ws://127.0.0.1:${port}/`,
      token,
      pid: child.pid!,
      log: () => log,
      api,
      stop: () => stopServer(child, exited),
    };
  }
}

async function waitReady(child: ChildProcess, api: (path: string) => Promise<unknown>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    try {
      await api('api/status');
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return false;
}

async function stopServer(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // SIGTERM: jupyter_server stops, shutting its kernels down first.
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

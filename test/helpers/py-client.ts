/**
 * A kernel driven by Debian's jupyter_client (KernelManager + BlockingKernelClient) from a test:
 * test/fixtures/jupyter/client_driver.py runs in the test's Jupyter environment and answers
 * one JSON line per command. What Jupyter's own tools see is what the test asserts on.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { kPython, kRepoRoot, type JupyterEnv } from './jupyter-env.js';

export interface PyMessage {
  header: { msg_id: string; msg_type: string; [k: string]: unknown };
  parent_header: { msg_id?: string; [k: string]: unknown };
  metadata: Record<string, unknown>;
  content: Record<string, any>;
}

export interface PyExecution {
  msg_id: string;
  reply: PyMessage;
  iopub: PyMessage[];
}

const kDriver = join(kRepoRoot, 'test', 'fixtures', 'jupyter', 'client_driver.py');

export class PyKernelClient {
  readonly #proc: ChildProcessWithoutNullStreams;
  readonly #answers: ((line: string) => void)[] = [];
  #stderr = '';
  #exited: Promise<number | null>;
  /** Pid and process group of the kernel, from `start`. */
  pid = 0;
  pgid = 0;
  /** interrupt_mode of the kernelspec, as jupyter_client read it. */
  interruptMode = '';

  private constructor(env: JupyterEnv) {
    this.#proc = spawn(kPython, [kDriver], { env: env.env, cwd: env.dir, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#proc.stderr.setEncoding('utf8').on('data', (t: string) => (this.#stderr += t));
    createInterface({ input: this.#proc.stdout }).on('line', (line) => this.#answers.shift()?.(line));
    this.#exited = new Promise((resolve) => this.#proc.once('exit', (code) => resolve(code)));
  }

  /** Starts the driver and, through it, the kernel `kernelName` from its kernelspec. */
  static async start(env: JupyterEnv, kernelName: string, cwd?: string): Promise<PyKernelClient> {
    const client = new PyKernelClient(env);
    const r = await client.call<{ pid: number; pgid: number; interrupt_mode: string }>({ op: 'start', kernel_name: kernelName, cwd });
    client.pid = r.pid;
    client.pgid = r.pgid;
    client.interruptMode = r.interrupt_mode;
    return client;
  }

  /** The driver's stderr (jupyter_client's log). */
  get log(): string {
    return this.#stderr;
  }

  call<T = Record<string, unknown>>(cmd: Record<string, unknown>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onExit = () => reject(new Error(`the jupyter_client driver exited during ${JSON.stringify(cmd)}:\n${this.#stderr}`));
      void this.#exited.then(onExit);
      this.#answers.push((line) => {
        const answer = JSON.parse(line) as { ok: boolean; error?: string; trace?: string } & T;
        if (answer.ok) resolve(answer);
        else reject(new Error(`jupyter_client: ${answer.error}\n${answer.trace ?? ''}`));
      });
      this.#proc.stdin.write(JSON.stringify(cmd) + '\n');
    });
  }

  execute(code: string, options: { silent?: boolean; storeHistory?: boolean; stopOnError?: boolean; timeout?: number } = {}): Promise<PyExecution> {
    return this.call<PyExecution>({
      op: 'execute',
      code,
      silent: options.silent ?? false,
      store_history: options.storeHistory ?? true,
      stop_on_error: options.stopOnError ?? true,
      timeout: options.timeout ?? 60,
    });
  }

  /** Sends an execute_request without waiting; `wait(msgId)` collects it. */
  async send(code: string): Promise<string> {
    return (await this.call<{ msg_id: string }>({ op: 'execute', code, wait: false })).msg_id;
  }

  wait(msgId: string, timeout = 60): Promise<PyExecution> {
    return this.call<PyExecution>({ op: 'wait', msg_id: msgId, timeout });
  }

  /** Any request on shell (waits for its reply and idle status) or control (its reply). */
  request(channel: 'shell' | 'control', msgType: string, content: Record<string, unknown> = {}, timeout = 30): Promise<PyExecution> {
    return this.call<PyExecution>({ op: 'request', channel, msg_type: msgType, content, timeout });
  }

  /** Pings the heartbeat socket; `echo` is null when nothing came back. */
  heartbeat(timeout = 5): Promise<{ sent: string; echo: string | null }> {
    return this.call({ op: 'heartbeat', timeout });
  }

  async quit(): Promise<void> {
    if (this.#proc.exitCode !== null) return;
    this.#proc.stdin.end(JSON.stringify({ op: 'quit' }) + '\n');
    const timer = setTimeout(() => this.#proc.kill('SIGKILL'), 15_000);
    await this.#exited;
    clearTimeout(timer);
  }
}

/** The text/plain of a cell's execute_result, or undefined. */
export function resultText(x: { iopub: PyMessage[] }): string | undefined {
  return x.iopub.find((m) => m.header.msg_type === 'execute_result')?.content.data['text/plain'];
}

export function msgTypes(x: { iopub: PyMessage[] }): string[] {
  return x.iopub.map((m) => (m.header.msg_type === 'status' ? `status:${m.content.execution_state}` : m.header.msg_type));
}

/** Connection files: where a kernel listens and how its messages are signed. */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface ConnectionInfo {
  transport: 'tcp' | 'ipc';
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string;
  kernel_name?: string;
}

export type PortName = 'shell_port' | 'iopub_port' | 'stdin_port' | 'control_port' | 'hb_port';
export const kPortNames: readonly PortName[] = ['shell_port', 'iopub_port', 'stdin_port', 'control_port', 'hb_port'];

export function readConnectionFile(path: string): ConnectionInfo {
  let info: Partial<ConnectionInfo>;
  try {
    info = JSON.parse(readFileSync(path, 'utf8')) as Partial<ConnectionInfo>;
  } catch (err) {
    throw new Error(`cannot read the connection file ${path}: ${(err as Error).message}`);
  }
  for (const name of kPortNames) {
    if (typeof info[name] !== 'number') throw new Error(`connection file ${path} has no ${name}`);
  }
  return {
    transport: info.transport ?? 'tcp',
    ip: info.ip ?? '127.0.0.1',
    key: info.key ?? '',
    signature_scheme: info.signature_scheme ?? 'hmac-sha256',
    ...info,
  } as ConnectionInfo;
}

export function endpoint(info: ConnectionInfo, port: PortName): string {
  return info.transport === 'ipc' ? `ipc://${info.ip}-${info[port]}` : `tcp://${info.ip}:${info[port]}`;
}

/** Five free TCP ports on 127.0.0.1 and a fresh key, for a kernel this process starts. */
export async function newConnectionInfo(): Promise<ConnectionInfo> {
  const ports = await freePorts(kPortNames.length);
  const info: Partial<ConnectionInfo> = {
    transport: 'tcp',
    ip: '127.0.0.1',
    key: randomBytes(32).toString('hex'),
    signature_scheme: 'hmac-sha256',
  };
  kPortNames.forEach((name, i) => (info[name] = ports[i]));
  return info as ConnectionInfo;
}

export function writeConnectionFile(path: string, info: ConnectionInfo): void {
  writeFileSync(path, JSON.stringify(info, null, 2), { mode: 0o600 });
}

/** `count` distinct TCP ports free on 127.0.0.1 now (another process may take one before it is bound). */
export async function freePorts(count: number): Promise<number[]> {
  // Hold all listeners open until every port is known, so the same port is not handed out twice.
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<import('node:net').Server>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

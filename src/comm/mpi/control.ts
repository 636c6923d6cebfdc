/**
 * The control channel between the launcher (the notebook kernel or a runRanks caller) and the
 * ranks mpirun started: one TCP connection per rank, so it works across hosts. It carries what
 * the processes backend sends over Node's IPC channel — the program, results, failures, aborts,
 * blocked states — and the rank's output, which thus arrives whole and labelled with its rank
 * and stream. Frames are a 4-byte length and a v8-serialised (structured clone) message.
 *
 * The address travels to the ranks in kControlVariable as "hosts:port:token", the hosts
 * comma-separated (IPv6 ones in brackets), tried in turn; a connection that does not open with
 * the token is dropped.
 */
import * as net from 'node:net';
import * as v8 from 'node:v8';
import type { OutputStream } from '../host.js';
import type { ToHost, ToRank } from '../messages.js';

export const kControlVariable = 'TSLAB_PARALLEL_MPI_CONTROL';

export type RankSays =
  | ToHost
  | { readonly type: 'hello'; readonly rank: number; readonly size: number; readonly token: string; readonly host?: string; readonly pid?: number }
  | { readonly type: 'output'; readonly stream: OutputStream; readonly text: string };

export type HostSays = ToRank;

export interface ControlAddress {
  /** Addresses of the launcher's machine, in the order the ranks try them. */
  readonly hosts: readonly string[];
  readonly port: number;
  readonly token: string;
}

export function formatAddress(a: ControlAddress): string {
  return `${a.hosts.map((h) => (h.includes(':') ? `[${h}]` : h)).join(',')}:${a.port}:${a.token}`;
}

export function parseAddress(text: string): ControlAddress | undefined {
  const m = /^(.*):(\d+):([0-9a-f]+)$/.exec(text);
  if (!m || !m[1]) return undefined;
  const hosts = m[1].split(',').map((h) => h.trim().replace(/^\[(.*)\]$/, '$1')).filter(Boolean);
  return hosts.length > 0 ? { hosts, port: Number(m[2]), token: m[3]! } : undefined;
}

/** An address and port as people write them (IPv6 in brackets). */
export const hostPort = (host: string, port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

/**
 * What a rank prints (to stderr, which mpirun brings back) when it cannot connect back: the
 * launcher finds these lines in mpirun's output and says what went wrong instead of mpirun.
 */
export function unreachableLine(rank: number, host: string, tried: string): string {
  return `tslab-parallel: rank ${rank} on ${host} could not connect back to the launcher: ${tried}`;
}

export function parseUnreachable(line: string): { rank: number; host: string; tried: string } | undefined {
  const m = /tslab-parallel: rank (\d+) on (\S+) could not connect back to the launcher: (.*)$/.exec(line);
  return m ? { rank: Number(m[1]), host: m[2]!, tried: m[3]! } : undefined;
}

/** One end of a control connection: framed messages both ways. */
export class ControlConnection<In, Out> {
  readonly socket: net.Socket;
  #buffered: Buffer = Buffer.alloc(0);

  constructor(socket: net.Socket, onMessage: (message: In) => void) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
      while (this.#buffered.length >= 4) {
        const length = this.#buffered.readUInt32BE(0);
        if (this.#buffered.length < 4 + length) break;
        const body = this.#buffered.subarray(4, 4 + length);
        this.#buffered = this.#buffered.subarray(4 + length);
        onMessage(v8.deserialize(body) as In);
      }
    });
  }

  /** Resolves once the message is handed to the operating system. */
  send(message: Out): Promise<void> {
    const body = v8.serialize(message);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length, 0);
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed) return reject(new Error('the control connection is closed'));
      this.socket.write(Buffer.concat([head, body]), (err) => (err ? reject(err) : resolve()));
    });
  }
}

/**
 * Where the ranks reach the launcher: which addresses of this machine to give them, and where
 * to listen. Ranks on this host only: loopback. Ranks on other hosts (a hostfile or --host
 * naming them, a Slurm allocation of several nodes): the address this machine sends from
 * towards each of them (`ip route get`, else the interface on the same subnet), else every
 * non-loopback address; never 127.0.0.1. TSLAB_PARALLEL_MPI_CONTROL_HOST (comma-separated)
 * overrides the addresses, TSLAB_PARALLEL_MPI_CONTROL_PORT the port (for a firewall rule).
 */
import { execFile } from 'node:child_process';
import * as dns from 'node:dns/promises';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MpiLaunchOptions } from './launcher-command.js';

export const kControlHostVariable = 'TSLAB_PARALLEL_MPI_CONTROL_HOST';
export const kControlPortVariable = 'TSLAB_PARALLEL_MPI_CONTROL_PORT';

export interface ControlPlan {
  /** Addresses given to the ranks, tried in this order. */
  readonly hosts: readonly string[];
  /** Where the server listens: '127.0.0.1', or undefined for every address. */
  readonly listen: string | undefined;
  readonly port: number;
  /** How the addresses were chosen, for error messages. */
  readonly why: string;
  /** The other hosts the run names (empty: this host only, or unknown). */
  readonly remote: readonly string[];
}

/** The host names of a hostfile (Open MPI's `host slots=N`, MPICH's `host:N`; # comments). */
export function hostfileHosts(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim().split(/\s+/)[0] ?? '')
    .filter(Boolean)
    .map((word) => word.replace(/:\d+$/, ''));
}

/** Hosts that mpirun's own arguments name: --host/-H lists and --hostfile/--machinefile files. */
function argumentHosts(args: readonly string[], cwd: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split(/=(.*)/s) as [string, string | undefined];
    const value = inline ?? args[i + 1];
    if (value === undefined) continue;
    if (/^(--?host|-H)$/.test(flag)) out.push(...value.split(',').map((h) => h.replace(/:\d+$/, '')));
    else if (/^(--?hostfile|--?machinefile)$/.test(flag)) out.push(...readHostfile(value, cwd));
  }
  return out;
}

function readHostfile(file: string, cwd: string): string[] {
  try {
    return hostfileHosts(fs.readFileSync(path.resolve(cwd, file), 'utf8'));
  } catch {
    return []; // mpirun says what is wrong with it
  }
}

function localAddresses(): { address: string; cidr: string | null; internal: boolean }[] {
  return Object.values(os.networkInterfaces()).flatMap((list) => list ?? []);
}

const isLoopback = (address: string) => address === '::1' || address.startsWith('127.') || address === 'localhost';

async function resolve(host: string): Promise<string[]> {
  if (net.isIP(host)) return [host];
  try {
    return (await dns.lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}

/** The source address of this machine's route to `address` (`ip route get`), if `ip` is there. */
function routeSource(address: string): Promise<string | undefined> {
  return new Promise((resolveSource) => {
    execFile('ip', ['-o', 'route', 'get', address], { encoding: 'utf8', timeout: 2000 }, (err, stdout) => {
      resolveSource(err ? undefined : /\bsrc (\S+)/.exec(stdout)?.[1]);
    });
  });
}

/** The first `bits` bits of an IPv4 address, as a number. */
const prefix = (v4: string, bits: number) => Math.floor(v4.split('.').reduce((n, part) => n * 256 + Number(part), 0) / 2 ** (32 - bits));

/** The address of an interface whose IPv4 subnet holds `address`. */
function sameSubnet(address: string): string | undefined {
  if (!net.isIPv4(address)) return undefined;
  for (const a of localAddresses()) {
    const m = a.cidr && /^([\d.]+)\/(\d+)$/.exec(a.cidr);
    if (m && !a.internal && prefix(m[1]!, Number(m[2])) === prefix(address, Number(m[2]))) return a.address;
  }
  return undefined;
}

/** Decides the addresses and the listening address for a run with these launch options. */
export async function planControl(options: MpiLaunchOptions, cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<ControlPlan> {
  const port = Number(env[kControlPortVariable]) || 0;
  const named = [...(options.hostfile ? readHostfile(options.hostfile, cwd) : []), ...argumentHosts(options.mpirunArgs ?? [], cwd)];
  const mine = new Set(localAddresses().map((a) => a.address));
  const remote: string[] = [];
  const remoteAddresses: string[] = [];
  for (const host of new Set(named)) {
    if (isLoopback(host) || host === os.hostname()) continue;
    const addresses = await resolve(host);
    if (addresses.length > 0 && addresses.every((a) => isLoopback(a) || mine.has(a))) continue;
    remote.push(host);
    remoteAddresses.push(...addresses.filter((a) => !isLoopback(a) && !mine.has(a)).slice(0, 1));
  }
  const slurmNodes = Number(env.SLURM_JOB_NUM_NODES ?? env.SLURM_NNODES);
  const overridden = env[kControlHostVariable]?.split(',').map((h) => h.trim()).filter(Boolean);
  if (overridden?.length) return { hosts: overridden, listen: undefined, port, why: `${kControlHostVariable}=${env[kControlHostVariable]}`, remote };
  const elsewhere = remote.length > 0 || (!options.hostfile && slurmNodes > 1);
  if (!elsewhere) return { hosts: ['127.0.0.1'], listen: options.hostfile || named.length > 0 ? undefined : '127.0.0.1', port, why: 'every rank runs on this host', remote };
  const sources: string[] = [];
  for (const address of remoteAddresses) {
    const source = (await routeSource(address)) ?? sameSubnet(address);
    if (source && !isLoopback(source) && !sources.includes(source)) sources.push(source);
  }
  if (sources.length > 0) return { hosts: sources, listen: undefined, port, why: `the address${sources.length > 1 ? 'es' : ''} this machine sends from towards ${remote.join(', ')}`, remote };
  const everyAddress = localAddresses().filter((a) => !a.internal && !a.address.startsWith('fe80')).map((a) => a.address);
  return { hosts: everyAddress.length > 0 ? everyAddress : [os.hostname()], listen: undefined, port, why: "every address of this machine's interfaces", remote };
}

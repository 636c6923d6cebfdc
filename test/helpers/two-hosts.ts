/**
 * Two hosts on one machine, for running Open MPI across hosts in tests and benchmarks: two
 * network namespaces, each joined to the root namespace (where the test and the kernel run) by
 * a veth pair on a private /30 of a test subnet chosen per run, with forwarding between the two
 * pairs only. Open MPI's rsh launcher enters a host through an agent script (`ip netns exec`
 * plus `unshare --uts`, so each host has its own hostname); the hostfile names the hosts by
 * address, so nothing needs /etc/hosts. `mpirunArgs` are the MCA settings that use them.
 *
 * Everything is made with names unique to this process (tsp-PID-N-a/b), torn down by
 * close(), and also when the process exits before it could call close(). Pure Node (no
 * vitest): bench/comm/mpi.ts uses it too.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Host {
  /** Its hostname inside (also its namespace's name). */
  readonly name: string;
  /** Its address on the test subnet (what the hostfile names). */
  readonly address: string;
  /** The root namespace's address on the same link (where it reaches the test's processes). */
  readonly gateway: string;
}

export interface TwoHosts {
  readonly hosts: readonly [Host, Host];
  /** The test subnet, e.g. 10.231.17.0/24 (both links lie inside it). */
  readonly subnet: string;
  /** A hostfile with `slots` slots on each host. */
  readonly hostfile: string;
  /** The rsh agent: `agent HOST COMMAND...` runs COMMAND on HOST. */
  readonly agent: string;
  /** mpirun's arguments for these hosts: the agent, TCP only, the test subnet. */
  readonly mpirunArgs: readonly string[];
  /** A directory of this test bed (removed with it). */
  readonly dir: string;
  /** Processes running on the hosts (in their namespaces) now. */
  processes(): number[];
  /** Runs a command on one host (inside its namespace, with its hostname). */
  exec(host: Host, command: string, args: readonly string[]): string;
  close(): void;
}

const kPrefix = 'tsp';
const kLockDir = os.tmpdir();
let made = 0;

function commandExists(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, command)));
}

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Why two hosts cannot be made here (with what would fix it), or undefined when they can. */
export const twoHostsUnavailable: string | undefined = (() => {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'making network namespaces needs root (CI runs as root)';
  for (const command of ['ip', 'unshare']) if (!commandExists(command)) return `${command} is not on PATH (install ${command === 'ip' ? 'iproute2' : 'util-linux'})`;
  return probe();
})();

/** Tries each thing the test bed does, on a namespace and link of its own: the first failure says why. */
function probe(): string | undefined {
  const namespace = `${kPrefix}-${process.pid}-probe`;
  const link = `${kPrefix}${process.pid}p`;
  const steps: [string, () => void][] = [
    ['ip netns add', () => ip('netns', 'add', namespace)],
    ['a veth pair into a namespace', () => ip('link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace)],
    ['forwarding on a link (/proc/sys is read-only?)', () => fs.writeFileSync(`/proc/sys/net/ipv4/conf/${link}/forwarding`, '1')],
    ['unshare --uts', () => execFileSync('ip', ['netns', 'exec', namespace, 'unshare', '--uts', 'hostname', 'probe'], { stdio: 'pipe' })],
  ];
  try {
    for (const [what, step] of steps) {
      try {
        step();
      } catch (err) {
        const said = String((err as { stderr?: unknown }).stderr ?? '').trim() || (err as Error).message;
        return `${what} fails here (${said.split('\n')[0]}); the machine does not let this process make network namespaces (a container needs --privileged)`;
      }
    }
    return undefined;
  } finally {
    spawnSync('ip', ['link', 'del', link]);
    spawnSync('ip', ['netns', 'del', namespace]);
  }
}

/** Claims a free 10.231.X.0/24 for this run: a lock file per X, and no address of the machine in it. */
function claimSubnet(): { third: number; release: () => void } {
  const used = ip('-4', '-o', 'addr') + ip('-4', 'route');
  for (let i = 0; i < 254; i++) {
    const third = ((process.pid + made * 7 + i) % 254) + 1;
    if (used.includes(`10.231.${third}.`)) continue;
    const lock = path.join(kLockDir, `${kPrefix}-subnet-10.231.${third}.lock`);
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
    } catch {
      const owner = Number(fs.readFileSync(lock, 'utf8'));
      if (alive(owner)) continue;
      fs.rmSync(lock, { force: true }); // left by a run that was killed
      i--;
      continue;
    }
    return { third, release: () => fs.rmSync(lock, { force: true }) };
  }
  throw new Error('no free 10.231.X.0/24 subnet for the test hosts (remove stale /tmp/tsp-subnet-*.lock files)');
}

function alive(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Namespaces, links and lock files of runs that were killed before they could clean up. */
function removeStale(): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const m = new RegExp(`^(${kPrefix}-(\\d+)-(\\d+))-([ab])\\b`).exec(line);
    if (m && !alive(Number(m[2]))) removeHost(linkStemOf(Number(m[2]), Number(m[3])), `${m[1]}-${m[4]}`, m[4]!);
  }
}

/** The root side's interface names, tspPIDxN + a/b: at most 15 characters. */
const linkStemOf = (pid: number, n: number) => `${kPrefix}${pid}x${n}`;

function namespacePids(namespace: string): number[] {
  const pids = spawnSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).stdout ?? '';
  return pids.split(/\s+/).filter(Boolean).map(Number);
}

function removeHost(linkStem: string, namespace: string, side: string): void {
  // Processes a run left in the namespace (only ours: nothing else runs in it).
  for (const pid of namespacePids(namespace)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  spawnSync('ip', ['link', 'del', `${linkStem}${side}`]);
  spawnSync('ip', ['netns', 'del', namespace]);
}

function writeAgent(file: string, hosts: readonly Host[]): void {
  const cases = hosts.map((h) => `  ${h.address}|${h.name}) ns=${h.name} ;;`).join('\n');
  fs.writeFileSync(
    file,
    `#!/bin/sh
# Open MPI's rsh agent for the test hosts: "$1" is the host, the rest its command line (a
# shell command, as ssh would run it). It runs inside the host's network namespace, with a UTS
# namespace of its own whose hostname is the host's name.
host=$1
shift
case "$host" in
${cases}
  *) echo "two-hosts agent: no test host $host" >&2; exit 255 ;;
esac
exec ip netns exec "$ns" unshare --uts sh -c 'hostname "$0" && exec sh -c "$1"' "$ns" "$*"
`,
    { mode: 0o755 },
  );
}

/** Makes the two hosts; `slots` ranks may run on each. Throws when it cannot (see twoHostsUnavailable). */
export function makeTwoHosts(options: { slots?: number } = {}): TwoHosts {
  if (twoHostsUnavailable) throw new Error(`two test hosts cannot be made: ${twoHostsUnavailable}`);
  removeStale();
  const stem = `${kPrefix}-${process.pid}-${made++}`;
  const linkStem = linkStemOf(process.pid, made - 1);
  const subnet = claimSubnet();
  const net = `10.231.${subnet.third}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${stem}-`));
  const hosts = (['a', 'b'] as const).map((side, i) => ({
    side,
    name: `${stem}-${side}`,
    gateway: `${net}.${4 * i + 1}`,
    address: `${net}.${4 * i + 2}`,
  }));
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    process.off('exit', close);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, onSignal);
    for (const h of hosts) removeHost(linkStem, h.name, h.side);
    // Open MPI's daemons on each host leave a session directory named after its hostname.
    for (const name of fs.readdirSync(os.tmpdir())) {
      if (hosts.some((h) => name.startsWith(`ompi.${h.name}.`))) fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
    }
    fs.rmSync(dir, { recursive: true, force: true });
    subnet.release();
  };
  function onSignal(signal: NodeJS.Signals) {
    close();
    process.kill(process.pid, signal); // the handler is gone: the default action ends the process
  }
  process.once('exit', close);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, onSignal);
  try {
    for (const h of hosts) {
      const link = `${linkStem}${h.side}`;
      const inside = (...args: string[]) => ip('netns', 'exec', h.name, 'ip', ...args);
      ip('netns', 'add', h.name);
      ip('link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.name);
      ip('addr', 'add', `${h.gateway}/30`, 'dev', link);
      ip('link', 'set', link, 'up');
      inside('addr', 'add', `${h.address}/30`, 'dev', 'eth0');
      inside('link', 'set', 'lo', 'up');
      inside('link', 'set', 'eth0', 'up');
      // The other host's /30 lies behind the root namespace.
      inside('route', 'add', `${net}.0/24`, 'via', h.gateway);
      // Forwarding on these two links only (not the machine's ip_forward).
      fs.writeFileSync(`/proc/sys/net/ipv4/conf/${link}/forwarding`, '1');
    }
    const agent = path.join(dir, 'agent');
    writeAgent(agent, hosts);
    const hostfile = path.join(dir, 'hostfile');
    fs.writeFileSync(hostfile, hosts.map((h) => `${h.address} slots=${options.slots ?? 2}\n`).join(''));
    const cidr = `${net}.0/24`;
    const mpirunArgs = ['--mca', 'plm_rsh_agent', agent, '--mca', 'btl', 'tcp,self', '--mca', 'btl_tcp_if_include', cidr, '--mca', 'oob_tcp_if_include', cidr];
    const bed = hosts.map(({ name, address, gateway }) => ({ name, address, gateway })) as [Host, Host];
    return {
      hosts: bed,
      subnet: cidr,
      hostfile,
      agent,
      mpirunArgs,
      dir,
      processes: () => hosts.flatMap((h) => namespacePids(h.name)),
      exec: (host, command, args) => execFileSync(agent, [host.address, [command, ...args].map(shellQuote).join(' ')], { encoding: 'utf8' }),
      close,
    };
  } catch (err) {
    close();
    throw err;
  }
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** What is left of a closed test bed: namespaces, links, temp files (Open MPI's session directories too) and lock files of this process. */
export function leftOver(pid = process.pid): string[] {
  const namespaces = ip('netns', 'list').split('\n').filter((l) => l.startsWith(`${kPrefix}-${pid}-`));
  const links = ip('-o', 'link').split('\n').filter((l) => new RegExp(`^\\d+: ${kPrefix}${pid}x\\d+[ab][@:]`).test(l));
  const files = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith(`${kPrefix}-${pid}-`) || n.startsWith(`ompi.${kPrefix}-${pid}-`));
  const locks = fs
    .readdirSync(kLockDir)
    .filter((n) => n.startsWith(`${kPrefix}-subnet-`) && fs.readFileSync(path.join(kLockDir, n), 'utf8') === String(pid));
  return [...namespaces, ...links, ...files, ...locks];
}

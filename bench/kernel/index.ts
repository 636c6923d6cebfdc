/**
 * Kernel benchmark (not a test): this kernel against plain tslab (the installed tslab 1.0.22),
 * both driven by the same client (src/protocol/client.ts) in the same run, alternating which
 * goes first so that a busy machine hurts both alike.
 *
 * - start: from spawning the kernel process to its first kernel_info_reply (the request is
 *   queued by ZeroMQ before the kernel listens, so it is answered as soon as it can be);
 *   also, informative, to the result of its first `1+1` (which includes loading the compiler);
 * - execute: the round trip of `1+1` (execute_request sent → execute_reply and idle status
 *   received), the same cell again and again after warm-up (both kernels reuse what they can
 *   of an unchanged cell);
 * - distinct cells: fresh kernels side by side given the same 200 new declarations, as a
 *   notebook grows; the round trip of each, and the resident memory (RSS, the kernel's whole
 *   process tree) after the last one.
 *
 * Targets (issue 15): start → first result ≤ tslab; execute median ≤ 10 ms and ≤ tslab; a new
 * distinct cell ≤ tslab; RSS after 200 distinct cells ≤ 1.5x tslab. Every figure is a
 * bench/peers comparison (best, median, ratio); writes build/bench/kernel.json.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/kernel/index.js [--quick] [--starts N] [--executes N] [--distinct N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KernelClient } from '../../src/protocol/client.js';
import { newConnectionInfo, writeConnectionFile, type ConnectionInfo } from '../../src/protocol/connection.js';
import { ownKernelArgv } from '../../src/protocol/kernel-process.js';
import { kPackageRoot, packageVersion } from '../../src/util/package.js';
import { Results } from '../peers/compare.js';

interface Contender {
  readonly name: string;
  readonly version: string;
  readonly argv: readonly string[];
}

interface Running {
  readonly child: ChildProcess;
  readonly info: ConnectionInfo;
  readonly dir: string;
  /** ms from spawn to the first kernel_info_reply. */
  readonly startMs: number;
  readonly t0: number;
  log(): string;
}

const kTargets = { executeMedianMs: 10, startRatio: 1, executeRatio: 1 };

function tslabContender(): Contender {
  const pkg = require.resolve('tslab/package.json', { paths: [kPackageRoot] });
  const version = (require(pkg) as { version: string }).version;
  // bin/tslab calls main(); dist/main.js alone only defines it.
  return { name: 'tslab', version, argv: [process.execPath, join(dirname(pkg), 'bin', 'tslab'), 'kernel', '--config-path', '{connection_file}'] };
}

const ours: Contender = { name: 'tslab-parallel', version: packageVersion(), argv: ownKernelArgv() };
const tslab = tslabContender();

/**
 * Plain tslab sometimes dies answering its first kernel_info ("Socket is blocked by a bind or
 * unbind operation", when the request arrives while it still binds): such a launch is counted,
 * reported and tried again, for either contender, instead of ending the benchmark.
 */
const kLaunchAttempts = 3;
const failedLaunches = new Map<string, number>();

async function launch(c: Contender, cwd: string): Promise<Running> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchOnce(c, cwd);
    } catch (err) {
      failedLaunches.set(c.name, (failedLaunches.get(c.name) ?? 0) + 1);
      if (attempt >= kLaunchAttempts) throw err;
      console.log(`  ${c.name}: launch ${attempt} failed, trying again: ${(err as Error).message.split('\n')[0]}`);
    }
  }
}

/** Launches every contender side by side; if one cannot start, the others are stopped first. */
async function launchAll(cs: readonly Contender[], cwd: string): Promise<Running[]> {
  const settled = await Promise.allSettled(cs.map((c) => launch(c, cwd)));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!failed) return settled.map((r) => (r as PromiseFulfilledResult<Running>).value);
  await Promise.all(settled.map((r) => (r.status === 'fulfilled' ? stop(r.value) : undefined)));
  throw failed.reason;
}

async function launchOnce(c: Contender, cwd: string): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'tslab-parallel-bench-'));
  const file = join(dir, 'connection.json');
  const info = await newConnectionInfo();
  writeConnectionFile(file, info);
  const argv = c.argv.map((a) => a.replace('{connection_file}', file));
  const t0 = performance.now();
  const child = spawn(argv[0], argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.setEncoding('utf8').on('data', (t: string) => (log += t));
  child.stderr?.setEncoding('utf8').on('data', (t: string) => (log += t));
  const client = KernelClient.open(info);
  let onExit: (() => void) | undefined;
  const exited = new Promise<never>((_, reject) => {
    onExit = () => reject(new Error(`the kernel exited (${child.exitCode ?? child.signalCode}) before answering`));
    child.once('exit', onExit);
  });
  try {
    await Promise.race([client.kernelInfo(60_000), exited]);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${c.name} did not answer kernel_info: ${(err as Error).message}\n${log}`);
  } finally {
    if (onExit) child.off('exit', onExit);
    exited.catch(() => undefined);
    client.close();
  }
  return { child, info, dir, startMs: performance.now() - t0, t0, log: () => log };
}

async function stop(r: Running, client?: KernelClient): Promise<void> {
  const exited = new Promise<void>((resolve) => (r.child.exitCode !== null ? resolve() : r.child.once('exit', () => resolve())));
  const c = client ?? (await KernelClient.connect(r.info, 10_000).catch(() => undefined));
  await c?.shutdown(false, 5000).catch(() => undefined);
  c?.close();
  const timer = setTimeout(() => r.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
  rmSync(r.dir, { recursive: true, force: true });
}

/** Lost replies (a kernel that dropped its execute_reply or idle status), by contender. */
const lost = new Map<string, number>();
const kRoundTripTimeoutMs = 5000;

/**
 * Executes `code`; returns the round trip in ms, or undefined when the reply or the idle
 * status did not come within the timeout (counted in `lost`; plain tslab drops messages when
 * two of its sends overlap on a busy socket).
 */
async function execute(client: KernelClient, code: string, who: Contender, run?: Running, timeoutMs = kRoundTripTimeoutMs): Promise<number | undefined> {
  const seen: string[] = [];
  const t = performance.now();
  let r;
  try {
    r = await client.execute(code, { timeoutMs, onIopub: (m) => seen.push(m.header.msg_type) });
  } catch (err) {
    const n = (lost.get(who.name) ?? 0) + 1;
    lost.set(who.name, n);
    if (n === 1) {
      const log = run?.log().trim().split('\n').slice(-3).join(' | ') ?? '';
      console.log(`  ${who.name}: ${code}: ${(err as Error).message} (iopub so far: ${seen.join(', ') || 'none'}); kernel log: ${log || '(empty)'}`);
    }
    return undefined;
  }
  if (r.reply.content.status !== 'ok') throw new Error(`${who.name}: ${code} failed: ${JSON.stringify(r.reply.content)}`);
  return performance.now() - t;
}

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

/** Resident memory of a process and its descendants in MiB (Linux /proc), or undefined elsewhere. */
function treeRssMiB(pid: number): number | undefined {
  const kids = (p: number): number[] => {
    try {
      return readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const rss = (p: number): number => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : 0;
    } catch {
      return 0;
    }
  };
  if (!existsSync(`/proc/${pid}/status`)) return undefined;
  let total = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    total += rss(p);
    todo.push(...kids(p));
  }
  return total;
}

/** Linux counts process CPU time in clock ticks of 1/100 s (USER_HZ, the same on every architecture). */
const kTicksPerSecond = 100;

/**
 * CPU time (user + system) of a process and its descendants in ms, from /proc, or undefined
 * elsewhere. On a shared, loaded machine this says what a kernel costs where wall time also
 * counts waiting for a core.
 */
function treeCpuMs(pid: number): number | undefined {
  if (!existsSync(`/proc/${pid}/stat`)) return undefined;
  let total = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    try {
      // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += ((Number(fields[11]) + Number(fields[12])) * 1000) / kTicksPerSecond;
      todo.push(...readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return total;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const starts = arg('--starts', quick ? 5 : 8);
  const executes = arg('--executes', quick ? 100 : 300);
  const distinctCells = arg('--distinct', 200);
  const memoryRounds = arg('--memory-rounds', quick ? 1 : 2);
  const cwd = mkdtempSync(join(tmpdir(), 'tslab-parallel-bench-cwd-'));
  // Removed however the benchmark ends (a kernel that fails to start throws out of main).
  process.once('exit', () => rmSync(cwd, { recursive: true, force: true }));
  const contenders = [ours, tslab];
  const samples = (): Map<string, number[]> => new Map(contenders.map((c) => [c.name, []]));
  const startMs = samples();
  const firstResultMs = samples();
  const roundTripMs = samples();
  const distinctMs = samples();
  const rssMiB = samples();
  const firstResultCpuMs = samples();
  const distinctCpuMs = samples();

  console.log(`kernel benchmark: ${ours.name} ${ours.version} vs ${tslab.name} ${tslab.version}, Node ${process.version}, ${cpus().length} CPUs`);
  console.log(`start: ${starts} launches each, alternating; execute: ${executes} round trips of 1+1 each, alternating; memory: RSS after ${distinctCells} distinct cells, ${memoryRounds} kernel(s) each`);

  // Start: one kernel at a time, alternating which goes first.
  for (let i = 0; i < starts; i++) {
    for (const c of i % 2 === 0 ? contenders : [...contenders].reverse()) {
      const r = await launch(c, cwd);
      startMs.get(c.name)!.push(r.startMs);
      const client = await KernelClient.connect(r.info, 30_000);
      if ((await execute(client, '1+1', c, r, 60_000)) !== undefined) {
        firstResultMs.get(c.name)!.push(performance.now() - r.t0);
        const cpu = r.child.pid !== undefined ? treeCpuMs(r.child.pid) : undefined;
        if (cpu !== undefined) firstResultCpuMs.get(c.name)!.push(cpu);
      }
      await stop(r, client);
    }
  }

  // Execute round trips: both kernels up, warmed, requests alternating between them.
  const running = await launchAll(contenders, cwd);
  const clients = await Promise.all(running.map((r) => KernelClient.connect(r.info, 30_000)));
  try {
    for (const [j, client] of clients.entries()) for (let i = 0; i < 30; i++) await execute(client, '1+1', contenders[j], running[j]);
    lost.clear();
    for (let i = 0; i < executes; i++) {
      const order = i % 2 === 0 ? [0, 1] : [1, 0];
      for (const j of order) {
        const ms = await execute(clients[j], '1+1', contenders[j], running[j]);
        if (ms !== undefined) roundTripMs.get(contenders[j].name)!.push(ms);
      }
    }
  } finally {
    await Promise.all(running.map((r, j) => stop(r, clients[j])));
  }

  // Distinct cells and memory: fresh kernels side by side, each given the same distinct cells
  // (a new declaration each time, as a notebook grows), alternating; RSS of each kernel's
  // process tree after the last one.
  for (let round = 0; round < memoryRounds; round++) {
    const fresh = await launchAll(contenders, cwd);
    const freshClients = await Promise.all(fresh.map((r) => KernelClient.connect(r.info, 30_000)));
    try {
      for (const [j, client] of freshClients.entries()) await execute(client, '1+1', contenders[j], fresh[j], 60_000);
      const cpuOf = (r: Running) => (r.child.pid !== undefined ? treeCpuMs(r.child.pid) : undefined);
      const cpuBefore = fresh.map(cpuOf);
      for (let i = 0; i < distinctCells; i++) {
        for (const j of i % 2 === 0 ? [0, 1] : [1, 0]) {
          const ms = await execute(freshClients[j], `const v${round}_${i} = ${i} + 1; v${round}_${i}`, contenders[j], fresh[j]);
          if (ms !== undefined) distinctMs.get(contenders[j].name)!.push(ms);
        }
      }
      for (const [j, r] of fresh.entries()) {
        const before = cpuBefore[j];
        const after = cpuOf(r);
        if (before !== undefined && after !== undefined && distinctCells > 0) distinctCpuMs.get(contenders[j].name)!.push((after - before) / distinctCells);
        const mib = r.child.pid !== undefined ? treeRssMiB(r.child.pid) : undefined;
        if (mib !== undefined) rssMiB.get(contenders[j].name)!.push(mib);
      }
    } finally {
      await Promise.all(fresh.map((r, j) => stop(r, freshClients[j])));
    }
  }

  const results = new Results('kernel');
  const pair = (m: Map<string, number[]>) => ({ ours: m.get(ours.name)!, peer: { name: `tslab ${tslab.version}`, samples: m.get(tslab.name)! } });
  console.log('');
  results.add({ id: 'kernel.start.kernelInfo', title: 'start → first kernel_info_reply', unit: 'ms', better: 'lower', ...pair(startMs), target: { maxRatio: kTargets.startRatio, on: 'median', text: '≤ tslab' } });
  results.add({ id: 'kernel.start.firstResult', title: 'start → first 1+1 result', unit: 'ms', better: 'lower', ...pair(firstResultMs), target: { maxRatio: 1, on: 'median', text: '≤ tslab' } });
  if (firstResultCpuMs.get(ours.name)!.length && firstResultCpuMs.get(tslab.name)!.length) {
    results.add({ id: 'kernel.start.firstResultCpu', title: 'start → first 1+1 result, CPU time', unit: 'ms', better: 'lower', ...pair(firstResultCpuMs), target: { maxRatio: 1, on: 'median', text: '≤ tslab' } });
  }
  results.add({ id: 'kernel.execute.same', title: 'execute 1+1 round trip', unit: 'ms', better: 'lower', ...pair(roundTripMs), target: { maxRatio: kTargets.executeRatio, maxValue: kTargets.executeMedianMs, on: 'median', text: `≤ tslab and ≤ ${kTargets.executeMedianMs} ms` } });
  results.add({ id: 'kernel.execute.distinct', title: 'a new distinct cell', unit: 'ms', better: 'lower', ...pair(distinctMs), target: { maxRatio: 1, on: 'median', text: '≤ tslab' } });
  if (distinctCpuMs.get(ours.name)!.length && distinctCpuMs.get(tslab.name)!.length) {
    results.add({ id: 'kernel.execute.distinctCpu', title: 'a new distinct cell, CPU time (mean of a kernel)', unit: 'ms', better: 'lower', ...pair(distinctCpuMs), target: { maxRatio: 1, on: 'median', text: '≤ tslab' } });
  }
  if (rssMiB.get(ours.name)!.length && rssMiB.get(tslab.name)!.length) {
    results.add({ id: 'kernel.memory.rss', title: `RSS after ${distinctCells} distinct cells`, unit: 'MiB', better: 'lower', ...pair(rssMiB), target: { maxRatio: 1.5, on: 'median', text: '≤ 1.5x tslab' } });
  } else {
    results.add({ id: 'kernel.memory.rss', title: `RSS after ${distinctCells} distinct cells`, unit: 'MiB', better: 'lower', ours: [0], peerMissing: 'no /proc here to read resident memory from', target: { maxRatio: 1.5, text: '≤ 1.5x tslab' } });
  }
  console.log(`lost round trips (no reply/idle): ${ours.name} ${lost.get(ours.name) ?? 0}, ${tslab.name} ${lost.get(tslab.name) ?? 0}`);
  console.log(`failed launches (tried again): ${ours.name} ${failedLaunches.get(ours.name) ?? 0}, ${tslab.name} ${failedLaunches.get(tslab.name) ?? 0}`);
  results.write({
    runs: { starts, executes, distinctCells, memoryRounds, quick },
    lostRoundTrips: Object.fromEntries(lost),
    failedLaunches: Object.fromEntries(failedLaunches),
  });
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack ?? err);
    process.exit(1);
  },
);

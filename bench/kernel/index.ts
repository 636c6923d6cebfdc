/**
 * Kernel benchmark (not a test): this kernel against plain tslab (the installed tslab 1.0.22),
 * both driven by the same client (src/protocol/client.ts) in the same run, alternating which
 * goes first so that a busy machine hurts both alike.
 *
 * - start: from spawning the kernel process to its first kernel_info_reply (the request is
 *   queued by ZeroMQ before the kernel listens, so it is answered as soon as it can be);
 *   also, informative, to the result of its first `1+1` (which includes loading the compiler);
 * - execute: the round trip of `1+1` (execute_request sent → execute_reply and idle status
 *   received), the same cell again and again (both kernels reuse what they can of an unchanged
 *   cell); and, for information, of distinct trivial cells (`i + 1`, a new text each time);
 *   received) after warm-up, many times; median and p90.
 *
 * Targets: start no slower than tslab; execute median at most 10 ms and no slower than tslab.
 * Prints the figures, targets and ratios; writes build/bench/kernel.json.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/kernel/index.js [--starts N] [--executes N]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KernelClient } from '../../src/protocol/client.js';
import { newConnectionInfo, writeConnectionFile, type ConnectionInfo } from '../../src/protocol/connection.js';
import { ownKernelArgv } from '../../src/protocol/kernel-process.js';
import { kPackageRoot, packageVersion } from '../../src/util/package.js';

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

async function launch(c: Contender, cwd: string): Promise<Running> {
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
  try {
    await client.kernelInfo(60_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${c.name} did not answer kernel_info: ${(err as Error).message}\n${log}`);
  } finally {
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

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * p;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return s[lo] + (s[hi] - s[lo]) * (at - lo);
}

const stats = (xs: readonly number[]) => ({
  n: xs.length,
  median: percentile(xs, 0.5),
  p90: percentile(xs, 0.9),
  min: Math.min(...xs),
  max: Math.max(...xs),
});

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

async function main(): Promise<void> {
  const starts = arg('--starts', 8);
  const executes = arg('--executes', 300);
  const cwd = mkdtempSync(join(tmpdir(), 'tslab-parallel-bench-cwd-'));
  const contenders = [ours, tslab];
  const startMs = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const firstResultMs = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const roundTripMs = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const distinctMs = new Map<string, number[]>(contenders.map((c) => [c.name, []]));

  console.log(`kernel benchmark: ${ours.name} ${ours.version} vs ${tslab.name} ${tslab.version}, Node ${process.version}, ${cpus().length} CPUs`);
  console.log(`start: ${starts} launches each, alternating; execute: ${executes} round trips of 1+1 each, alternating`);

  // Start: one kernel at a time, alternating which goes first.
  for (let i = 0; i < starts; i++) {
    for (const c of i % 2 === 0 ? contenders : [...contenders].reverse()) {
      const r = await launch(c, cwd);
      startMs.get(c.name)!.push(r.startMs);
      const client = await KernelClient.connect(r.info, 30_000);
      if ((await execute(client, '1+1', c, r, 60_000)) !== undefined) firstResultMs.get(c.name)!.push(performance.now() - r.t0);
      await stop(r, client);
    }
  }

  // Execute round trips: both kernels up, warmed, requests alternating between them.
  const running = await Promise.all(contenders.map((c) => launch(c, cwd)));
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
    for (let i = 0; i < Math.min(executes, 100); i++) {
      for (const j of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const ms = await execute(clients[j], `${i} + 1`, contenders[j], running[j]);
        if (ms !== undefined) distinctMs.get(contenders[j].name)!.push(ms);
      }
    }
  } finally {
    await Promise.all(running.map((r, j) => stop(r, clients[j])));
    rmSync(cwd, { recursive: true, force: true });
  }

  const figures = Object.fromEntries(
    contenders.map((c) => [
      c.name,
      {
        version: c.version,
        startToKernelInfoMs: stats(startMs.get(c.name)!),
        startToFirstResultMs: stats(firstResultMs.get(c.name)!),
        executeRoundTripMs: stats(roundTripMs.get(c.name)!),
        /** Distinct trivial cells (`i + 1`): what a cell costs when nothing can be reused. */
        distinctCellRoundTripMs: stats(distinctMs.get(c.name)!),
        /** Round trips whose execute_reply or idle status never came (not in the figures). */
        lostRoundTrips: lost.get(c.name) ?? 0,
      },
    ]),
  );
  const o = figures[ours.name];
  const t = figures[tslab.name];
  const ratios = {
    start: o.startToKernelInfoMs.median / t.startToKernelInfoMs.median,
    firstResult: o.startToFirstResultMs.median / t.startToFirstResultMs.median,
    executeMedian: o.executeRoundTripMs.median / t.executeRoundTripMs.median,
    executeP90: o.executeRoundTripMs.p90 / t.executeRoundTripMs.p90,
    distinctCells: o.distinctCellRoundTripMs.median / t.distinctCellRoundTripMs.median,
  };
  const met = {
    start: ratios.start <= kTargets.startRatio,
    executeMedian: o.executeRoundTripMs.median <= kTargets.executeMedianMs,
    executeVsTslab: ratios.executeMedian <= kTargets.executeRatio,
  };

  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const row = (label: string, a: { median: number; p90: number }, b: { median: number; p90: number }, ratio: number) =>
    `${label.padEnd(34)} ${`${ms(a.median)} (p90 ${ms(a.p90)})`.padEnd(26)} ${`${ms(b.median)} (p90 ${ms(b.p90)})`.padEnd(26)} ${ratio.toFixed(2)}`;
  console.log('');
  console.log(`${'median (p90)'.padEnd(34)} ${ours.name.padEnd(26)} ${tslab.name.padEnd(26)} ratio`);
  console.log(row('start → first kernel_info_reply', o.startToKernelInfoMs, t.startToKernelInfoMs, ratios.start));
  console.log(row('start → first 1+1 result', o.startToFirstResultMs, t.startToFirstResultMs, ratios.firstResult));
  console.log(row('execute 1+1 round trip', o.executeRoundTripMs, t.executeRoundTripMs, ratios.executeMedian));
  console.log(row('distinct cells (i + 1), informative', o.distinctCellRoundTripMs, t.distinctCellRoundTripMs, ratios.distinctCells));
  console.log(`${'lost round trips (no reply/idle)'.padEnd(34)} ${String(o.lostRoundTrips).padEnd(26)} ${String(t.lostRoundTrips).padEnd(26)}`);
  console.log('');
  console.log(`target: start no slower than tslab (ratio ≤ 1): ${met.start ? 'met' : 'NOT met'} (${ratios.start.toFixed(2)})`);
  console.log(`target: execute median ≤ ${kTargets.executeMedianMs} ms: ${met.executeMedian ? 'met' : 'NOT met'} (${ms(o.executeRoundTripMs.median)})`);
  console.log(`target: execute no slower than tslab (ratio ≤ 1): ${met.executeVsTslab ? 'met' : 'NOT met'} (${ratios.executeMedian.toFixed(2)})`);

  const out = join(kPackageRoot, 'build', 'bench', 'kernel.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        runs: { starts, executes },
        targets: kTargets,
        figures,
        ratios,
        met,
        samples: {
          startMs: Object.fromEntries(startMs),
          firstResultMs: Object.fromEntries(firstResultMs),
          roundTripMs: Object.fromEntries(roundTripMs),
          distinctCellMs: Object.fromEntries(distinctMs),
        },
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nwrote ${out}`);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack ?? err);
    process.exit(1);
  },
);

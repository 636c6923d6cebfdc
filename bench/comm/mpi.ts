/**
 * The Open MPI backend's benchmark (not a test): the same figures as bench/comm/index.ts for the
 * other transports — ping-pong round trips at 8 B, 1 KiB, 1 MiB and 16 MiB, allreduce of one
 * double, the lecture's 2D diffusion (1024×512, 500 steps) at np 1 and 2 — plus, in the same
 * run, a C ping-pong compiled with mpicc as the physical reference (bench/comm/c/pingpong.c).
 * C, JS and mpi4py (bench/peers/mpi4py_comm.py, under its own mpirun) alternate round by round,
 * so all three see the same machine. Also measured: the cost of the progress thread (waits that
 * park at once instead of spinning) and the allreduce algorithms. Prints figures with their
 * ratios to C and to mpi4py, and writes build/bench/comm-mpi.json.
 * Then, where network namespaces can be made (root), the same ping-pong across two hosts against
 * mpi4py and C on the same hosts (mpi-two-hosts.ts, build/bench/comm-mpi-two-hosts.json).
 *
 *   npm run build && npm run build:mpi && node dist/bench/comm/mpi.js [--quick] [--two-hosts]
 *   (--two-hosts: only the cross-host part; as root the benchmark allows Open MPI to run as root)
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runRanks, type RankFunction } from '../../src/comm/index.js';
import { Results, type Target } from '../peers/compare.js';
import { startMpi4pyPeer, type PythonPeer } from '../peers/python.js';
import { twoHostBench } from './mpi-two-hosts.js';
import { warmupTrips } from './warmup.js';
import { allreduceOne, diffusion, pingPong, type AllreduceData, type DiffusionData, type DiffusionTimes, type PingPongData } from './ranks.js';

const quick = process.argv.includes('--quick');
const onlyTwoHosts = process.argv.includes('--two-hosts');
// As root (CI, containers) Open MPI refuses to start unless told; the benchmark tells it.
if (process.getuid?.() === 0) {
  process.env.OMPI_ALLOW_RUN_AS_ROOT ??= '1';
  process.env.OMPI_ALLOW_RUN_AS_ROOT_CONFIRM ??= '1';
}
const kRounds = quick ? 2 : 5;
const kBatches = quick ? 3 : 5;

/** The backend's targets, against mpi4py measured in this run. */
const kTargets: Record<string, Target> = {
  'roundtrip.8': { maxRatio: 1.3, text: '≤ 1.3x mpi4py' },
  allreduce: { maxRatio: 1.3, text: '≤ 1.3x mpi4py' },
  // 16 MiB at ≥ 9 GB/s where mpi4py made 11: a round trip at most 1.22x mpi4py's.
  'roundtrip.16777216': { maxRatio: 1.22, text: '≤ 1.22x mpi4py (bandwidth ≥ 82% of its)' },
};

const kSizes = [8, 1024, 1 << 20, 16 << 20] as const;
const kIters: Record<number, number> = { 8: 10000, 1024: 10000, [1 << 20]: 100, [16 << 20]: 10 };

const root = path.resolve(__dirname, '..', '..', '..');
const outDir = path.join(root, 'build', 'bench');

interface Figure {
  readonly median: number;
  readonly best: number;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fold = (figures: readonly Figure[]): Figure => ({ median: median(figures.map((f) => f.median)), best: Math.min(...figures.map((f) => f.best)) });
const ofTimes = (times: readonly number[]): Figure => ({ median: median(times), best: Math.min(...times) });
const fmtTime = (s: number) => (s < 1e-3 ? `${(s * 1e6).toFixed(2)} µs` : `${(s * 1e3).toFixed(2)} ms`);
const fmtSize = (b: number) => (b >= 1 << 20 ? `${b >> 20} MiB` : b >= 1024 ? `${b >> 10} KiB` : `${b} B`);

// ---- the C reference -----------------------------------------------------------------------

interface CFigures {
  readonly pingPong: Record<string, Figure>;
  readonly allreduce: Figure;
  readonly iallreduce: Figure;
}

function compileC(): string {
  const exe = path.join(outDir, 'mpi-pingpong');
  fs.mkdirSync(outDir, { recursive: true });
  execFileSync('mpicc', ['-O2', '-o', exe, path.join(root, 'bench', 'comm', 'c', 'pingpong.c')], { stdio: 'inherit' });
  return exe;
}

function runC(exe: string): CFigures {
  // The C program divides its iterations (20000, 20000, 200, 20) as ours are divided.
  const out = execFileSync('mpirun', ['--oversubscribe', '-np', '2', exe, String(kBatches), String(20000 / iterations(8))], { encoding: 'utf8' });
  return JSON.parse(out) as CFigures;
}

// ---- the JS side ---------------------------------------------------------------------------

/** Runs with extra environment for the ranks (mpirun passes this process's environment on). */
async function ranks<R, D>(np: number, code: unknown, data: D, env: Record<string, string> = {}): Promise<R[]> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await runRanks<R, D>({ np, backend: 'mpi', code: code as RankFunction<D>, data, timeout: 300, onOutput: () => {} });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const iterations = (bytes: number) => (quick ? Math.ceil(kIters[bytes]! / 10) : kIters[bytes]!);

async function jsPingPong(bytes: number, env?: Record<string, string>): Promise<Figure> {
  const iters = iterations(bytes);
  const [times] = await ranks<number[], PingPongData>(2, pingPong, { bytes, iters, batches: kBatches, warmup: warmupTrips(bytes, iters) }, env);
  return ofTimes(times!);
}

async function jsAllreduce(kind: 'buffer' | 'object', env?: Record<string, string>): Promise<Figure> {
  const iters = quick ? 1000 : 10000;
  const [times] = await ranks<number[], AllreduceData>(2, allreduceOne, { iters, batches: kBatches, kind, warmup: warmupTrips(8, iters) }, env);
  return ofTimes(times!);
}

/** CPU time a rank spends while parked for one second (the progress thread's polling). */
async function parkedCpu(): Promise<{ waitMs: number; cpuMs: number }> {
  const [, parked] = await ranks<{ waitMs: number; cpuMs: number } | null, null>(
    2,
    async (comm: { send(v: unknown, d: number): Promise<void>; recv(s: number): Promise<unknown> }, rank: number) => {
      if (rank === 0) {
        await new Promise((r) => setTimeout(r, 1000));
        await comm.send(1, 1);
        return null;
      }
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await comm.recv(0);
      const cpu = process.cpuUsage(cpu0);
      return { waitMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
    },
    null,
  );
  return parked!;
}

/** Timed after untimed warm-up steps, as bench/comm does. */
const kGrid: DiffusionData = { Nx: 1024, Ny: 512, Nt: quick ? 100 : 500, warmup: quick ? 20 : 100 };
const kUpdates = kGrid.Nx * kGrid.Ny * kGrid.Nt;

async function jsDiffusion(np: number): Promise<number> {
  const [times] = await ranks<DiffusionTimes, DiffusionData>(np, diffusion, kGrid);
  return times!.seconds;
}

/** mpi4py's samples, one per round (each the best of its batches, as ours). */
interface PeerSamples {
  readonly pingPong: Record<number, number[]>;
  readonly allreduce: number[];
  readonly diffusion: Record<number, number[]>;
}

async function peerRound(peer: PythonPeer, into: PeerSamples): Promise<void> {
  for (const bytes of kSizes) (into.pingPong[bytes] ??= []).push(await peer.run('ping_pong', { bytes, iters: iterations(bytes), batches: kBatches }));
  into.allreduce.push(await peer.run('allreduce', { iters: quick ? 1000 : 10000, batches: kBatches }));
  for (const np of [1, 2]) (into.diffusion[np] ??= []).push(await peer.run('diffusion', { ...kGrid, np_ranks: np }));
}

// ---- the run -------------------------------------------------------------------------------

async function main(): Promise<void> {
  const load = () => os.loadavg()[0]!.toFixed(2);
  console.log(`Open MPI backend benchmark on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load ${load()}, Node ${process.version}${quick ? ', quick' : ''}`);
  console.log(execFileSync('mpirun', ['--version'], { encoding: 'utf8' }).split('\n')[0]);
  const exe = compileC();
  if (onlyTwoHosts) return twoHostBench({ quick, rounds: 5, exe });

  const { peer, missing } = startMpi4pyPeer();
  if (missing) console.log(`no mpi4py peer: ${missing}`);
  const c: CFigures[] = [];
  const js = { pingPong: {} as Record<number, Figure[]>, parked: {} as Record<number, Figure[]>, allreduce: [] as Figure[], allreduceP2p: [] as Figure[], allreduceIallreduce: [] as Figure[], allreduceObject: [] as Figure[], diffusion: { 1: [], 2: [] } as Record<number, number[]> };
  const py: PeerSamples = { pingPong: {}, allreduce: [], diffusion: {} };
  try {
    for (let round = 0; round < kRounds; round++) {
      c.push(runC(exe));
      for (const bytes of kSizes) (js.pingPong[bytes] ??= []).push(await jsPingPong(bytes));
      // Every wait parks at once: what a wake-up through the progress thread costs.
      for (const bytes of [8, 1024]) (js.parked[bytes] ??= []).push(await jsPingPong(bytes, { TSLAB_PARALLEL_MPI_SPIN_US: '0' }));
      js.allreduce.push(await jsAllreduce('buffer'));
      js.allreduceP2p.push(await jsAllreduce('buffer', { TSLAB_PARALLEL_MPI_NATIVE_ALLREDUCE_BYTES: 'Infinity' }));
      js.allreduceIallreduce.push(await jsAllreduce('buffer', { TSLAB_PARALLEL_MPI_SMALL_ALLREDUCE_BYTES: '0' }));
      js.allreduceObject.push(await jsAllreduce('object'));
      for (const np of [1, 2]) js.diffusion[np]!.push(await jsDiffusion(np));
      if (peer) await peerRound(peer, py);
      console.log(`round ${round + 1}/${kRounds} done (load ${load()})`);
    }
  } finally {
    await peer?.close();
  }
  const cPing = Object.fromEntries(kSizes.map((b) => [b, fold(c.map((r) => r.pingPong[String(b)]!))])) as Record<number, Figure>;
  const cAllreduce = fold(c.map((r) => r.allreduce));
  const cIallreduce = fold(c.map((r) => r.iallreduce));
  const ping = Object.fromEntries(kSizes.map((b) => [b, fold(js.pingPong[b]!)])) as Record<number, Figure>;
  const parked = Object.fromEntries([8, 1024].map((b) => [b, fold(js.parked[b]!)])) as Record<number, Figure>;
  const allreduce = fold(js.allreduce);
  const allreduceP2p = fold(js.allreduceP2p);
  const allreduceIallreduce = fold(js.allreduceIallreduce);
  const allreduceObject = fold(js.allreduceObject);
  const idle = await parkedCpu();

  console.log('\n== ping-pong round trip (median of batches; best batch in brackets), vs C in this run');
  for (const b of kSizes) {
    const bw = (f: Figure) => ((2 * b) / f.median / 1e9).toFixed(2);
    console.log(
      `${fmtSize(b).padStart(7)}: JS ${fmtTime(ping[b]!.median).padStart(10)} [${fmtTime(ping[b]!.best)}] ${bw(ping[b]!)} GB/s | ` +
        `C ${fmtTime(cPing[b]!.median).padStart(10)} [${fmtTime(cPing[b]!.best)}] ${bw(cPing[b]!)} GB/s | JS/C ${(ping[b]!.median / cPing[b]!.median).toFixed(2)}× [${(ping[b]!.best / cPing[b]!.best).toFixed(2)}×]`,
    );
  }
  console.log('\n== progress thread: every wait parks at once (no spin), woken by the thread');
  for (const b of [8, 1024]) {
    console.log(`${fmtSize(b).padStart(7)}: ${fmtTime(parked[b]!.median)} [${fmtTime(parked[b]!.best)}], +${fmtTime((parked[b]!.median - ping[b]!.median) / 2)} per wake-up over spinning`);
  }
  console.log(`a rank parked ${idle.waitMs.toFixed(0)} ms used ${idle.cpuMs.toFixed(1)} ms of CPU (${((idle.cpuMs / idle.waitMs) * 100).toFixed(1)}% of a core)`);
  console.log('\n== allreduce of one double');
  console.log(`Allreduce (Float64Array, default path): ${fmtTime(allreduce.median)} [${fmtTime(allreduce.best)}], ${(allreduce.median / cAllreduce.median).toFixed(2)}× C MPI_Allreduce`);
  console.log(`Allreduce over JS point-to-point:       ${fmtTime(allreduceP2p.median)} [${fmtTime(allreduceP2p.best)}]`);
  console.log(`Allreduce on MPI_Iallreduce:            ${fmtTime(allreduceIallreduce.median)} [${fmtTime(allreduceIallreduce.best)}]`);
  console.log(`allreduce (a number, object path):     ${fmtTime(allreduceObject.median)} [${fmtTime(allreduceObject.best)}]`);
  console.log(`C MPI_Allreduce ${fmtTime(cAllreduce.median)} [${fmtTime(cAllreduce.best)}]; C MPI_Iallreduce + MPI_Test ${fmtTime(cIallreduce.median)} [${fmtTime(cIallreduce.best)}]`);

  // Against mpi4py in this run: each sample is one round's best batch, on both sides.
  console.log('\n== against mpi4py in this run (best and median of the rounds)');
  const results = new Results('comm/mpi');
  const peerSide = (samples: readonly number[] | undefined) => (peer && samples?.length ? { name: 'mpi4py (Open MPI)', samples } : undefined);
  const micros = (seconds: readonly number[]) => seconds.map((t) => t * 1e6);
  for (const b of kSizes) {
    results.add({ id: `comm.mpi.roundtrip.${b}`, title: `mpi ping-pong ${fmtSize(b)} round trip`, unit: 'µs', better: 'lower', ours: micros(js.pingPong[b]!.map((f) => f.best)), peer: peerSide(py.pingPong[b] && micros(py.pingPong[b]!)), peerMissing: missing, target: kTargets[`roundtrip.${b}`] });
  }
  results.add({ id: 'comm.mpi.allreduce.double', title: 'mpi Allreduce of one double', unit: 'µs', better: 'lower', ours: micros(js.allreduce.map((f) => f.best)), peer: peerSide(micros(py.allreduce)), peerMissing: missing, target: kTargets.allreduce });
  const rate = (seconds: readonly number[]) => seconds.map((t) => kUpdates / t / 1e6);
  const d = [1, 2].map((np) =>
    results.add({ id: `comm.mpi.diffusion2d.np${np}`, title: `mpi 2D diffusion 1024×512 at np ${np} (${kGrid.Nt} steps after ${kGrid.warmup})`, unit: 'M updates/s', better: 'higher', ours: rate(js.diffusion[np]!), peer: peerSide(py.diffusion[np] && rate(py.diffusion[np]!)), peerMissing: missing }),
  );
  const peerEfficiency = d[0]!.peer && d[1]!.peer ? `; mpi4py's ${((d[1]!.peer.best / (2 * d[0]!.peer.best)) * 100).toFixed(0)}%` : '';
  results.add({ id: 'comm.mpi.diffusion2d.efficiency', title: `mpi 2D diffusion parallel efficiency, np 2 against np 1 (best runs)${peerEfficiency}, informative`, unit: '%', better: 'higher', ours: [(d[1]!.ours.best / (2 * d[0]!.ours.best)) * 100] });
  results.write({ quick, rounds: kRounds, batchesPerSample: kBatches, c: { pingPong: cPing, allreduce: cAllreduce, iallreduce: cIallreduce }, js: { pingPong: ping, parked, parkedCpu: idle, allreduce, allreduceP2p, allreduceIallreduce, allreduceObject } });
  await twoHostBench({ quick, rounds: 5, exe });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

/**
 * Communicator benchmark (not a test): our threads and processes transports against mpi4py over
 * Open MPI, measured in the same run, interleaved sample by sample (bench/peers): ping-pong round
 * trips at 8 B, 1 KiB, 1 MiB and 16 MiB (and the 16 MiB bandwidth), Allreduce of one double, and
 * the lecture's 2D diffusion (1024×512, 500 steps timed after 100 untimed ones) at np 1 and 2 in cell updates per second, with the
 * parallel efficiency of np 2. Each sample of either side is the best of a few batches inside one
 * world. Without mpi4py (python3-mpi4py, Open MPI's mpirun) our figures are printed alone.
 * Writes build/bench/comm.json.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/comm/index.js [--quick] [--rounds N]
 */
import * as os from 'node:os';
import { runRanks, type LaunchBackend, type RankFunction } from '../../src/comm/index.js';
import { interleave, Results, type Target } from '../peers/compare.js';
import { startMpi4pyPeer } from '../peers/python.js';
import { warmupTrips } from './warmup.js';
import { allreduceOne, diffusion, pingPong, type AllreduceData, type DiffusionData, type DiffusionTimes, type PingPongData } from './ranks.js';

const quick = process.argv.includes('--quick');
const roundsAt = process.argv.indexOf('--rounds');
const kRounds = roundsAt >= 0 ? Number(process.argv[roundsAt + 1]) : 5;
const backends: LaunchBackend[] = ['threads', 'processes'];
/** Batches inside each world (ours) or each peer request; a sample is the best of them. */
const kBatches = 3;

const fmtSize = (b: number) => (b >= 1 << 20 ? `${b >> 20} MiB` : b >= 1024 ? `${b >> 10} KiB` : `${b} B`);

async function ranks<R, D>(np: number, backend: LaunchBackend, code: (comm: never, rank: number, size: number, data: D) => Promise<R>, data: D): Promise<R[]> {
  return runRanks<R, D>({ np, backend, code: code as unknown as RankFunction<D>, data, timeout: 120 });
}

const kPingPongs: { bytes: number; threads: number; processes: number; peer: number }[] = [
  { bytes: 8, threads: 10_000, processes: 1_000, peer: 10_000 },
  { bytes: 1024, threads: 10_000, processes: 1_000, peer: 10_000 },
  { bytes: 1 << 20, threads: 100, processes: 50, peer: 100 },
  { bytes: 16 << 20, threads: 10, processes: 6, peer: 10 },
];

const kRoundTripTargets: Record<string, Target | undefined> = {
  'threads.8': { maxRatio: 1.3, text: '≤ 1.3x mpi4py' },
  'processes.8': { maxValue: 10, text: '≤ 10 µs' },
};
const kBandwidthTargets: Record<LaunchBackend, Target | undefined> = {
  threads: { minValue: 8, text: '≥ 8 GB/s' },
  processes: { minValue: 2.5, text: '≥ 2.5 GB/s' },
  mpi: undefined,
};

async function main(): Promise<void> {
  const { peer, missing } = startMpi4pyPeer();
  const results = new Results('comm');
  const peerName = 'mpi4py (Open MPI)';
  const scale = (n: number) => (quick ? Math.max(1, Math.ceil(n / 10)) : n);
  const peerSide = (samples?: number[]) => (samples ? { name: peerName, samples } : undefined);
  console.log(`comm benchmark on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load ${os.loadavg()[0]!.toFixed(2)}, Node ${process.version}, ${kRounds} rounds${quick ? ', quick' : ''}`);
  if (missing) console.log(`no peer: ${missing}`);
  try {
    for (const backend of backends) {
      console.log(`\n== ${backend}`);
      for (const p of kPingPongs) {
        const iters = scale(p[backend as 'threads' | 'processes']);
        const peerIters = scale(p.peer);
        const s = await interleave(
          kRounds,
          async () => Math.min(...(await ranks<number[], PingPongData>(2, backend, pingPong, { bytes: p.bytes, iters, batches: kBatches, warmup: warmupTrips(p.bytes, iters) }))[0]!) * 1e6,
          peer && (async () => (await peer.run('ping_pong', { bytes: p.bytes, iters: peerIters, batches: kBatches })) * 1e6),
        );
        results.add({ id: `comm.${backend}.roundtrip.${p.bytes}`, title: `${backend} ping-pong ${fmtSize(p.bytes)} round trip`, unit: 'µs', better: 'lower', ours: s.ours, peer: peerSide(s.peer), peerMissing: missing, target: kRoundTripTargets[`${backend}.${p.bytes}`] });
        if (p.bytes === 16 << 20) {
          const gbps = (us: number[]) => us.map((t) => (2 * p.bytes) / (t * 1e-6) / 1e9);
          results.add({ id: `comm.${backend}.bandwidth.16MiB`, title: `${backend} bandwidth at 16 MiB`, unit: 'GB/s', better: 'higher', ours: gbps(s.ours), peer: peerSide(s.peer && gbps(s.peer)), peerMissing: missing, target: kBandwidthTargets[backend] });
        }
      }
      const iters = scale(backend === 'threads' ? 10_000 : 1_000);
      const a = await interleave(
        kRounds,
        async () => Math.min(...(await ranks<number[], AllreduceData>(2, backend, allreduceOne, { iters, batches: kBatches, kind: 'buffer', warmup: warmupTrips(8, iters) }))[0]!) * 1e6,
        peer && (async () => (await peer.run('allreduce', { iters: scale(10_000), batches: kBatches })) * 1e6),
      );
      results.add({ id: `comm.${backend}.allreduce.double`, title: `${backend} Allreduce of one double`, unit: 'µs', better: 'lower', ours: a.ours, peer: peerSide(a.peer), peerMissing: missing, target: backend === 'threads' ? { maxRatio: 1.3, text: '≤ 1.3x mpi4py' } : undefined });
      const o = await interleave(kRounds, async () => Math.min(...(await ranks<number[], AllreduceData>(2, backend, allreduceOne, { iters, batches: kBatches, kind: 'object', warmup: warmupTrips(8, iters) }))[0]!) * 1e6);
      results.add({ id: `comm.${backend}.allreduce.object`, title: `${backend} allreduce of a number (object mode), informative`, unit: 'µs', better: 'lower', ours: o.ours });

      // Timed after untimed warm-up steps, on both sides: the steady state, as the ping-pong's.
      const grid: DiffusionData = { Nx: 1024, Ny: 512, Nt: quick ? 100 : 500, warmup: quick ? 20 : 100 };
      const updates = grid.Nx * grid.Ny * grid.Nt;
      const rate = (cells: number, seconds: number) => cells / seconds / 1e6;
      const best: Record<number, { ours: number; peer?: number; cold: number }> = {};
      for (const np of [1, 2]) {
        const cold: number[] = [];
        const d = await interleave(
          kRounds,
          async () => {
            const [t] = await ranks<DiffusionTimes, DiffusionData>(np, backend, diffusion, grid);
            cold.push(rate(grid.Nx * grid.Ny * grid.warmup!, t!.warmupSeconds));
            return rate(updates, t!.seconds);
          },
          peer && (async () => rate(updates, await peer.run('diffusion', { ...grid, np_ranks: np }))),
        );
        const c = results.add({ id: `comm.${backend}.diffusion2d.np${np}`, title: `${backend} 2D diffusion 1024×512 at np ${np} (${grid.Nt} steps after ${grid.warmup})`, unit: 'M updates/s', better: 'higher', ours: d.ours, peer: peerSide(d.peer), peerMissing: missing });
        best[np] = { ours: c.ours.best, peer: c.peer?.best, cold: Math.max(...cold) };
      }
      results.add({
        id: `comm.${backend}.diffusion2d.cold.efficiency`,
        title: `${backend} 2D diffusion efficiency over a fresh world's first ${grid.warmup} steps, np 2 against np 1 (best runs), informative`,
        unit: '%',
        better: 'higher',
        ours: [(best[2]!.cold / (2 * best[1]!.cold)) * 100],
      });
      // The same two ranks computing without any halo exchange: what this machine gives two
      // busy ranks now (a loaded machine or one without two full cores gives less than 2x).
      const alone = await interleave(kRounds, async () => rate(updates, (await ranks<DiffusionTimes, DiffusionData>(2, backend, diffusion, { ...grid, exchange: false }))[0]!.seconds));
      const ceiling = results.add({ id: `comm.${backend}.diffusion2d.np2.noexchange`, title: `${backend} 2D diffusion at np 2 without halo exchange (the machine's ceiling), informative`, unit: 'M updates/s', better: 'higher', ours: alone.ours });
      results.add({
        id: `comm.${backend}.diffusion2d.ceiling`,
        title: `${backend} 2D diffusion ceiling efficiency: np 2 without exchange against np 1 (best runs), informative`,
        unit: '%',
        better: 'higher',
        ours: [(ceiling.ours.best / (2 * best[1]!.ours)) * 100],
      });
      const efficiency = (best[2]!.ours / (2 * best[1]!.ours)) * 100;
      const peerEfficiency = best[2]!.peer && best[1]!.peer ? (best[2]!.peer / (2 * best[1]!.peer)) * 100 : undefined;
      results.add({
        id: `comm.${backend}.diffusion2d.efficiency`,
        title: `${backend} 2D diffusion parallel efficiency, np 2 against np 1 (best runs)${peerEfficiency ? `; mpi4py's ${peerEfficiency.toFixed(0)}%` : ''}`,
        unit: '%',
        better: 'higher',
        ours: [efficiency],
        target: backend === 'threads' ? { minValue: 85, text: '≥ 85%' } : undefined,
      });
    }
  } finally {
    await peer?.close();
  }
  results.write({ quick, rounds: kRounds, batchesPerSample: kBatches });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

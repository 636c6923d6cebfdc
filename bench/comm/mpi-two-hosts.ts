/**
 * The Open MPI backend across two hosts (part of bench/comm/mpi.ts): one rank on each of the
 * test bed's hosts (test/helpers/two-hosts.ts: network namespaces joined by veth links, TCP
 * between them), the 8 B round trip and the 16 MiB bandwidth, interleaved round by round with
 * mpi4py and the C ping-pong across the same hosts (each round: ours, mpi4py, for each size,
 * then one C run for both). Each sample of every side is the best of a few batches inside one
 * world. Needs root (network namespaces); says why when it cannot run.
 * Writes build/bench/comm-mpi-two-hosts.json.
 */
import { execFileSync } from 'node:child_process';
import { runRanks, type RankFunction } from '../../src/comm/index.js';
import { makeTwoHosts, twoHostsUnavailable } from '../../test/helpers/two-hosts.js';
import { Results } from '../peers/compare.js';
import { peerScript, pythonMissing, PythonPeer } from '../peers/python.js';
import { pingPong, type PingPongData } from './ranks.js';

interface CaseSpec {
  readonly bytes: number;
  readonly iters: number;
  readonly what: string;
  readonly id: string;
}

const kBatches = 3;
const kCases: readonly CaseSpec[] = [
  { bytes: 8, iters: 200, what: 'round trip 8 B', id: 'roundtrip.8' },
  { bytes: 16 << 20, iters: 4, what: 'bandwidth 16 MiB', id: 'bandwidth.16MiB' },
];
/** The C program's iteration counts (20000 at 8 B, 20 at 16 MiB) are divided by this: 200 and 4 here. */
const kCDivisor = 100;

/** Runs the cross-host comparison; `exe` is the compiled C ping-pong (or undefined). */
export async function twoHostBench(options: { quick: boolean; rounds: number; exe?: string }): Promise<void> {
  console.log('\n== across two hosts (network namespaces, TCP over veth), one rank on each');
  if (twoHostsUnavailable) {
    console.log(`skipped: ${twoHostsUnavailable}`);
    return;
  }
  const results = new Results('comm/mpi-two-hosts');
  const bed = makeTwoHosts({ slots: 1 });
  const mpirun = ['-np', '2', '--hostfile', bed.hostfile, ...bed.mpirunArgs];
  const missing = pythonMissing(['mpi4py', 'numpy']);
  const peer = missing ? undefined : new PythonPeer(peerScript('mpi4py_comm.py'), { launcher: ['mpirun', ...mpirun] });
  const ours = async (c: CaseSpec) => {
    const [times] = await runRanks<number[], PingPongData>({
      np: 2,
      backend: 'mpi',
      code: pingPong as unknown as RankFunction<PingPongData>,
      // Warm-up as long as a batch: a round trip over the namespaces' veths costs ~200 µs.
      data: { bytes: c.bytes, iters: c.iters, batches: kBatches, warmup: c.iters },
      mpi: { hostfile: bed.hostfile, mpirunArgs: bed.mpirunArgs },
      timeout: 300,
      onOutput: () => {},
    });
    return Math.min(...times!);
  };
  // One C run gives every size: it runs once per round, after ours and mpi4py.
  const runC = (exe: string) => {
    const out = execFileSync('mpirun', [...mpirun, exe, String(kBatches), String(kCDivisor)], { encoding: 'utf8' });
    return (JSON.parse(out) as { pingPong: Record<string, { best: number }> }).pingPong;
  };
  const samples = kCases.map(() => ({ ours: [] as number[], peer: [] as number[], c: [] as number[] }));
  const rounds = Math.max(5, options.quick ? 5 : options.rounds);
  try {
    for (let round = 0; round <= rounds; round++) {
      const keep = round > 0; // round 0 warms every side up
      for (const [i, c] of kCases.entries()) {
        const o = await ours(c);
        const p = peer ? await peer.run('ping_pong', { bytes: c.bytes, iters: c.iters, batches: kBatches }) : NaN;
        if (keep) samples[i]!.ours.push(o);
        if (keep && peer) samples[i]!.peer.push(p);
      }
      if (options.exe) {
        const c = runC(options.exe);
        if (keep) kCases.forEach((k, i) => samples[i]!.c.push(c[String(k.bytes)]!.best));
      }
    }
  } finally {
    await peer?.close();
    bed.close();
  }
  for (const [i, c] of kCases.entries()) {
    const small = c.bytes === 8;
    const toUnit = (t: number) => (small ? t * 1e6 : (2 * c.bytes) / t / 1e9);
    const common = { unit: small ? 'µs' : 'GB/s', better: small ? ('lower' as const) : ('higher' as const), ours: samples[i]!.ours.map(toUnit) };
    results.add({
      ...common,
      id: `comm.mpi.two-hosts.${c.id}`,
      title: `two hosts: ${c.what}, vs mpi4py`,
      peer: peer ? { name: 'mpi4py (Open MPI)', samples: samples[i]!.peer.map(toUnit) } : undefined,
      peerMissing: missing,
    });
    if (options.exe) results.add({ ...common, id: `comm.mpi.two-hosts.c.${c.id}`, title: `two hosts: ${c.what}, vs C`, peer: { name: 'C (mpicc)', samples: samples[i]!.c.map(toUnit) } });
  }
  results.write({ quick: options.quick, rounds, batchesPerSample: kBatches, hosts: 2, link: 'veth pairs through the root namespace, TCP (btl tcp,self)' });
}

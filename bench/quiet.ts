/**
 * How quiet the machine is while the benchmarks run: a bare two-thread ping-pong (two spinning
 * threads handing one shared word back and forth, none of our code), measured before and after
 * `npm run bench`. It needs two idle cores at the same moment, as the benchmarks of threads,
 * ranks and teams do: when other work holds a core, its median climbs far above its best long
 * before a load average shows it (on a shared host the load is the host's, not ours). So the
 * report can say whether a run's figures come from a quiet machine.
 *
 *   node dist/bench/quiet.js      one probe, printed
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';

export interface HostProbe {
  readonly date: string;
  /** Microseconds per round trip: best and median of the samples. */
  readonly bestMicros: number;
  readonly medianMicros: number;
  /** Share of CPU time the hypervisor gave to others during the probe (/proc/stat steal), when known. */
  readonly stealPercent?: number;
  readonly loadAverage: readonly number[];
  /** The median within kQuietSpread of the best: two cores were free for the whole probe. */
  readonly quiet: boolean;
}

/** 100 samples of 10 ms: a second, long enough to meet the scheduler's time slices of other work. */
const kSamples = 100;
const kSampleNanos = 10_000_000n;
/** On a busy machine a round trip can wait a whole time slice: the probe ends after 3 s whatever it has. */
const kProbeNanos = 3_000_000_000n;
/** Median over best below this: the samples barely spread, nothing else wanted those cores. */
const kQuietSpread = 1.5;

// The partner thread: answers every odd value with the next even one, until told to stop (-1).
const kPartner = `
const { workerData } = require('node:worker_threads');
const word = new Int32Array(workerData);
for (let expect = 1; ; expect += 2) {
  let v;
  while ((v = Atomics.load(word, 0)) !== expect) if (v === -1) return;
  Atomics.store(word, 0, expect + 1);
}`;

/** CPU ticks [busy+idle, steal] from /proc/stat's first line, or undefined off Linux. */
function cpuTicks(): [number, number] | undefined {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return [fields.reduce((a, b) => a + b, 0), fields[7] ?? 0];
  } catch {
    return undefined;
  }
}

export async function probeHost(): Promise<HostProbe> {
  const word = new Int32Array(new SharedArrayBuffer(4));
  const partner = new Worker(`(function () {${kPartner}\n})()`, { eval: true, workerData: word.buffer });
  const ticks0 = cpuTicks();
  const samples: number[] = [];
  try {
    await new Promise<void>((resolve, reject) => partner.once('online', resolve).once('error', reject));
    let value = 0;
    const start = process.hrtime.bigint();
    for (let s = 0; s < kSamples && process.hrtime.bigint() - start < kProbeNanos; s++) {
      const t = process.hrtime.bigint();
      let now = t;
      let trips = 0;
      // Round trips in batches of 10 between clock reads, until the sample's 10 ms are up.
      for (; now - t < kSampleNanos; now = process.hrtime.bigint()) {
        for (let k = 0; k < 10; k++) {
          Atomics.store(word, 0, ++value);
          while (Atomics.load(word, 0) !== value + 1);
          value++;
        }
        trips += 10;
      }
      samples.push(Number(now - t) / 1e3 / trips);
    }
  } finally {
    Atomics.store(word, 0, -1);
    await partner.terminate();
  }
  const ticks1 = cpuTicks();
  samples.sort((a, b) => a - b);
  const bestMicros = samples[0]!;
  const medianMicros = samples[samples.length >> 1]!;
  const total = ticks0 && ticks1 ? ticks1[0] - ticks0[0] : 0;
  return {
    date: new Date().toISOString(),
    bestMicros,
    medianMicros,
    ...(total > 0 ? { stealPercent: (100 * (ticks1![1] - ticks0![1])) / total } : {}),
    loadAverage: os.loadavg(),
    quiet: medianMicros <= kQuietSpread * bestMicros,
  };
}

export function formatProbe(p: HostProbe): string {
  const steal = p.stealPercent === undefined ? '' : `, steal ${p.stealPercent.toFixed(1)}%`;
  return (
    `two-thread ping-pong ${p.bestMicros.toFixed(2)} µs best, ${p.medianMicros.toFixed(2)} µs median` +
    `${steal}, load ${p.loadAverage.map((l) => l.toFixed(2)).join(' ')}: ${p.quiet ? 'quiet' : 'BUSY (median over 1.5x best: the figures carry other work)'}`
  );
}

if (require.main === module) {
  void probeHost().then((p) => console.log(formatProbe(p)));
}

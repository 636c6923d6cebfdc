/**
 * `npm run bench`: every benchmark, one after another (never in parallel: each measures the
 * machine), each in its own process so that one's threads and heap do not disturb the next.
 * Each prints its figures, targets and ratios and writes build/bench/<name>.json; at the end
 * bench/report.ts draws them all on one page, build/bench/report.html. Before the first and
 * after the last, bench/quiet.ts probes how quiet the machine is (build/bench/host.json), so the
 * page says whether the figures come from a quiet machine.
 *
 *   npm run bench                 all of them
 *   npm run bench -- pool comm    some of them
 *   npm run bench -- --quick      shorter runs (where the benchmark supports it)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectRoot } from './peers/compare.js';
import { formatProbe, probeHost, type HostProbe } from './quiet.js';
import { writeReport } from './report.js';

const kBenchmarks = ['kernel', 'pool', 'parallel', 'comm', 'comm/mpi', 'comm/session', 'trace'] as const;

/** Probes the host, prints the probe and keeps it for the report. */
async function probe(when: string, probes: Record<string, HostProbe>): Promise<void> {
  const p = await probeHost();
  probes[when] = p;
  console.log(`\n== host ${when}: ${formatProbe(p)}`);
  const dir = join(projectRoot, 'build', 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'host.json'), JSON.stringify(probes, null, 2) + '\n');
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const flags = args.filter((a) => a.startsWith('-'));
  const chosen = args.filter((a) => !a.startsWith('-'));
  const unknown = chosen.filter((c) => !(kBenchmarks as readonly string[]).includes(c));
  if (unknown.length) {
    console.error(`unknown benchmark ${unknown.join(', ')} (choose from ${kBenchmarks.join(', ')})`);
    return 2;
  }
  let failed = 0;
  const t0 = performance.now();
  const probes: Record<string, HostProbe> = {};
  await probe('before', probes);
  for (const name of chosen.length ? chosen : kBenchmarks) {
    const script = join(__dirname, name.includes('/') ? `${name}.js` : join(name, 'index.js'));
    if (!existsSync(script)) {
      console.log(`\n== ${name}: not built (${script})`);
      continue;
    }
    console.log(`\n== ${name}`);
    const started = performance.now();
    const r = spawnSync(process.execPath, [script, ...flags], { stdio: 'inherit' });
    if (r.status !== 0) failed++;
    console.log(`== ${name}: ${r.status === 0 ? 'done' : `FAILED (exit ${r.status ?? r.signal})`} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  await probe('after', probes);
  const report = writeReport();
  console.log(`\nall benchmarks: ${((performance.now() - t0) / 60_000).toFixed(1)} min${report ? `; report: ${relative(process.cwd(), report)}` : ''}`);
  return failed ? 1 : 0;
}

void main().then((code) => (process.exitCode = code));

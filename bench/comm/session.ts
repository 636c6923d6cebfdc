/**
 * %mpirun session benchmark (not a test): the round trip of a trivial cell (`%%mpirun` printing
 * `rank`) on a session of 4 ranks, against a one-off `%%mpirun -np 4` world running the same
 * cell, in the same kernel and the same run, alternating, on threads and on processes. The
 * round trip is the client's: execute_request sent → execute_reply received.
 *
 * Targets (issue 11): a session cell ≤ 15 ms on threads, ≤ 25 ms on processes (median), and
 * at least 5x faster than the one-off world. Writes build/bench/comm-session.json.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/comm/session.js [--quick]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelClient } from '../../src/protocol/client.js';
import { newConnectionInfo, writeConnectionFile } from '../../src/protocol/connection.js';
import { ownKernelArgv } from '../../src/protocol/kernel-process.js';
import { interleave, Results } from '../peers/compare.js';

const quick = process.argv.includes('--quick');
const kRounds = quick ? 10 : 40;
const kTargetMs = { threads: 15, processes: 25 } as const;

async function roundTrip(client: KernelClient, code: string): Promise<number> {
  const t = performance.now();
  const r = await client.execute(code, { timeoutMs: 60_000 });
  const ms = performance.now() - t;
  if (r.reply.content.status !== 'ok') throw new Error(`${code.split('\n')[0]} failed: ${JSON.stringify(r.reply.content)}`);
  return ms;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tslab-parallel-bench-'));
  const file = join(dir, 'connection.json');
  const info = await newConnectionInfo();
  writeConnectionFile(file, info);
  const argv = ownKernelArgv().map((a) => a.replace('{connection_file}', file));
  const child = spawn(argv[0]!, argv.slice(1), { cwd: dir, stdio: 'ignore' });
  const client = KernelClient.open(info);
  const results = new Results('comm/session');
  try {
    await client.kernelInfo(60_000);
    for (const backend of ['threads', 'processes'] as const) {
      await roundTrip(client, `%mpirun --session -np 4 --backend ${backend}`);
      const session = () => roundTrip(client, '%%mpirun\nconsole.log(rank);');
      const oneOff = () => roundTrip(client, `%%mpirun -np 4 --backend ${backend}\nconsole.log(rank);`);
      // The first runs compile the cells; warm both up a few times before measuring.
      for (let i = 0; i < 3; i++) await interleave(1, session, oneOff, { warmup: false });
      const samples = await interleave(kRounds, session, oneOff);
      results.add({
        id: `comm.session.${backend}.cell`,
        title: `session cell round trip, np 4, ${backend}`,
        unit: 'ms',
        better: 'lower',
        ours: samples.ours,
        peer: { name: 'one-off %%mpirun -np 4', samples: samples.peer! },
        target: { maxValue: kTargetMs[backend], maxRatio: 0.2, on: 'median', text: `≤ ${kTargetMs[backend]} ms and ≥ 5x faster than a one-off world` },
      });
      await roundTrip(client, '%mpirun --close');
    }
    results.write({ rounds: kRounds });
  } finally {
    await client.shutdown(false).catch(() => undefined);
    client.close();
    await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

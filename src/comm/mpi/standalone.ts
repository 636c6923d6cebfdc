/**
 * A rank script under any launcher (`mpirun -np 4 npx tslab-parallel rank script.ts`, `srun`):
 * the rank starts MPI itself, runs the script with `comm`, `rank` and `size` available (its
 * exported main(comm, rank, size), and `import { comm } from 'tslab-parallel'`), and writes to
 * its own stdout and stderr, which the launcher labels. An uncaught error prints the rank and
 * the stack, then calls MPI_Abort, so the other ranks never wait for it forever.
 */
import * as path from 'node:path';
import { kPackageRoot } from '../../util/package.js';
import { runRank, type RankChannel } from '../entry/run-rank.js';
import type { ToHost } from '../messages.js';
import { SelfTransport } from '../self.js';
import type { Transport } from '../transport.js';
import { launcherVariable } from './environment.js';
import { startRank } from './start.js';

/** The script's frames only: not this package's command line and loaders below them. */
function withoutOwnFrames(stack: string): string {
  const own = path.join(kPackageRoot, 'dist') + path.sep;
  return stack
    .split('\n')
    .filter((line) => !/^\s+at /.test(line) || !line.includes(own))
    .join('\n');
}

export interface StandaloneOptions {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd?: string;
}

/** Runs the script as this process's rank; resolves never (the rank ends the process). */
export async function runStandaloneRank(options: StandaloneOptions): Promise<void> {
  const cwd = options.cwd ?? process.cwd();
  const program = { kind: 'script' as const, file: path.resolve(cwd, options.file), args: options.args, cwd };
  let transport: Transport;
  let end: (code: number) => never;
  if (launcherVariable()) {
    const rank = startRank({});
    transport = rank.transport;
    end = rank.end;
  } else {
    // Not started by a launcher: a world of one, as `comm` is in any plain Node program.
    transport = new SelfTransport();
    end = (code) => process.exit(code);
  }
  const label = transport.size > 1 ? `rank ${transport.rank}: ` : '';
  const channel: RankChannel = {
    send(message: ToHost) {
      if (message.type !== 'failure') return;
      const { error } = message;
      const stack = error.stack && error.stack.includes(error.message) ? error.stack : `${error.name}: ${error.message}\n${error.stack ?? ''}`;
      process.stderr.write(`${label}${withoutOwnFrames(stack).trimEnd()}\n`);
    },
    exit: end,
  };
  await runRank(transport, program, channel);
}

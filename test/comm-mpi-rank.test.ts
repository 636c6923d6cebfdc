/**
 * `tslab-parallel rank script.ts` under a real `mpirun`: the script gets `comm` from
 * 'tslab-parallel' (and main(comm, rank, size)), its arguments and the launcher's output
 * handling; an uncaught error prints the rank and the stack and calls MPI_Abort, so mpirun
 * ends with the code and no process of the run is left; comm.abort(code) ends with `code`;
 * without a launcher the script is a world of one.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionMembers } from '../dist/src/comm/mpi/session.js';
import { mpiUnavailable } from './fixtures/comm/backends.js';

const dist = path.resolve(__dirname, '..', 'dist', 'src');
let dir: string;
/** What `tslab-parallel rank` runs (src/cli/rank.ts), as a script mpirun can start. */
let rank: string;

const scripts: Record<string, string> = {
  'hello.ts': `
    import { comm, SUM } from 'tslab-parallel';
    export async function main(c: typeof comm, rank: number, size: number) {
      const total = await c.allreduce(rank + 1, SUM);
      const ring = new Float64Array(3).fill(rank);
      const got = new Float64Array(3);
      await c.Sendrecv(ring, (rank + 1) % size, 0, got, (rank + size - 1) % size, 0);
      console.log(\`rank \${rank} of \${size} on \${comm.backend}: total \${total}, from the left \${got[0]}, args \${process.argv.slice(2).join(' ')}\`);
    }`,
  'failing.ts': `
    import { comm } from 'tslab-parallel';
    function check(piece: number) {
      if (piece === 1) throw new Error('piece 1 is broken');
    }
    check(comm.rank);
    comm.recv(1).then(() => console.log('never'));`,
  'aborting.js': `
    const { comm } = require('tslab-parallel');
    if (comm.rank === 0) comm.abort(7);
    comm.recv(0);`,
};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tslab-mpi-rank-'));
  for (const [name, text] of Object.entries(scripts)) fs.writeFileSync(path.join(dir, name), text);
  rank = path.join(dir, 'rank.js');
  fs.writeFileSync(rank, `require(${JSON.stringify(path.join(dist, 'cli', 'rank.js'))}).rankCommand(process.argv.slice(2)).then((c) => { if (c >= 0) process.exitCode = c; });\n`);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Ran {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
  /** Processes of mpirun's session still alive after it exited (mpirun runs as a session leader). */
  readonly left: number[];
}

function run(command: string, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('close', async (code) => {
      let left = sessionMembers(child.pid!);
      for (let i = 0; i < 60 && left.length > 0; i++) {
        await new Promise((r) => setTimeout(r, 50)); // exiting processes take a moment to be reaped
        left = sessionMembers(child.pid!);
      }
      resolve({ code, out, err, left });
    });
  });
}

const mpirun = (np: number, ...args: string[]) => run('mpirun', ['--oversubscribe', '-np', String(np), process.execPath, rank, ...args]);

describe.skipIf(mpiUnavailable)('tslab-parallel rank under mpirun', () => {
  it('runs a .ts script as every rank, with comm from tslab-parallel, main(), and the arguments', async () => {
    const r = await mpirun(3, 'hello.ts', 'a', 'b');
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out.trim().split('\n').sort()).toEqual([
      'rank 0 of 3 on mpi: total 6, from the left 2, args a b',
      'rank 1 of 3 on mpi: total 6, from the left 0, args a b',
      'rank 2 of 3 on mpi: total 6, from the left 1, args a b',
    ]);
    expect(r.left).toEqual([]);
  });

  it('an uncaught error prints the rank and the .ts stack, then MPI_Abort stops every rank', async () => {
    const r = await mpirun(3, 'failing.ts');
    expect(r.code).toBe(1);
    expect(r.err).toContain('rank 1: Error: piece 1 is broken\n');
    expect(r.err).toMatch(new RegExp(`at check \\(${path.join(dir, 'failing.ts').replaceAll('.', '\\.')}:4:\\d+\\)`));
    // (mpirun's own MPI_ABORT notice is not checked: Open MPI 4.1 sometimes fails to print it.)
    expect(r.out).not.toContain('never');
    expect(r.left).toEqual([]);
  });

  it('comm.abort(code) ends mpirun with that code', async () => {
    const r = await mpirun(2, 'aborting.js');
    expect(r.code).toBe(7);
    expect(r.left).toEqual([]);
  });

  it('without a launcher the script is a world of one', async () => {
    const r = await run(process.execPath, [rank, 'hello.ts', 'solo']);
    expect([r.code, r.err, r.out]).toEqual([0, '', 'rank 0 of 1 on self: total 1, from the left 0, args solo\n']);
  });

  it('wrong usage exits 2 with the usage', async () => {
    const r = await run(process.execPath, [rank, 'notes.txt']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('tslab-parallel rank: notes.txt is not a .ts, .js or .mjs file');
  });
});

const cliHasRank = fs.existsSync(path.join(dist, 'cli.js')) && fs.readFileSync(path.join(dist, 'cli.js'), 'utf8').includes('rankCommand');

describe.skipIf(mpiUnavailable)('the tslab-parallel CLI', () => {
  it.skipIf(!cliHasRank)('has the rank command (src/cli.ts registers src/cli/rank.ts)', async () => {
    const r = await run('mpirun', ['--oversubscribe', '-np', '2', process.execPath, path.join(dist, 'cli.js'), 'rank', 'hello.ts']);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toContain('rank 1 of 2 on mpi: total 3');
  });
});

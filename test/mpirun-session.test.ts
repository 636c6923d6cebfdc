/**
 * %mpirun sessions through a real kernel, on every backend of the shared fixture: ranks that
 * keep their declarations across cells (type-checked against them), data pushed, pulled,
 * scattered and gathered, a failing rank that leaves the session usable, interrupts of a
 * waiting and of a busy cell, a one-off -np world beside the session, and close leaving no rank.
 */
import { readdirSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './fixtures/comm/backends.js';
import { startSession, type KernelSession } from './helpers/kernel-session.js';
import { descendants, survivors } from './helpers/process-tree.js';
import { delay } from './helpers/wait.js';

/** The kernel's rank processes (processes backend: comm/entry; mpi: mpirun and its ranks). */
function rankProcesses(pid: number) {
  return descendants(pid).filter((p) => /comm\/(entry|mpi)|mpirun|prterun|prted/.test(p.command));
}

function threadsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/task`).length;
}

function fdsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function tempDirsOf(pid: number): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith(`tslab-parallel-comm-${pid}-`));
}

describe.each(backends)('mpirun sessions on the %s backend', (backend) => {
  let k: KernelSession;
  let dir: string;
  let threadsBefore = 0;
  let fdsBefore = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsp-session-'));
    k = await startSession({ cwd: dir });
    await k.run('function helper(x: number) { return x * 2; }\nconst factor = 3;\nconst data = Float64Array.from({ length: 10 }, (_, i) => i + 1);\nconst words = ["a", "b", "c", "d", "e"];');
    threadsBefore = threadsOf(k.pid);
    fdsBefore = fdsOf(k.pid);
    const r = await k.run(`%mpirun --session -np 3 --backend ${backend}`);
    expect(r.error).toBeUndefined();
    expect(r.stdout).toMatch(new RegExp(`^%mpirun session: 3 ranks on ${backend}.*0 cells run, idle`));
  }, 90_000);
  afterAll(async () => {
    await k?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps each rank's declarations across three cells, and checks later cells against them", async () => {
    const one = await k.run('%%mpirun\nlet count = rank * 10;\nfunction bump(by: number) { count += by; return count; }\nclass Box { constructor(public v: number) {} }');
    expect(one.error).toBeUndefined();
    const two = await k.run('%%mpirun\nconst box = new Box(bump(helper(1)));\nconsole.log(`box ${box.v}`);');
    expect(two.error).toBeUndefined();
    expect(two.stdout.trim().split('\n').sort()).toEqual(['[rank 0] box 2', '[rank 1] box 12', '[rank 2] box 22']);
    const three = await k.run('%%mpirun --out seen@all\nconst seen = [count, box.v, await comm.allreduce(count), box instanceof Box];');
    expect(three.error).toBeUndefined();
    expect((await k.run('JSON.stringify(seen)')).result).toBe('[[2,2,36,true],[12,12,36,true],[22,22,36,true]]');
    const typed = await k.run('%%mpirun\nconst wrong: string = count;');
    expect(typed.error?.evalue).toMatch(/Type 'number' is not assignable to type 'string'/);
    const status = await k.run('%mpirun');
    expect(status.stdout).toMatch(new RegExp(`3 ranks on ${backend} \\(.+\\), 3 cells run, idle`));
  });

  it('keeps messages and communicators across cells, and ships a redefined notebook function anew', async () => {
    const made = await k.run('%%mpirun\nconst half = (await comm.split(rank % 2))!;\nif (rank === 0) await comm.send("from cell one", 2, 5);');
    expect(made.error).toBeUndefined();
    const used = await k.run('%%mpirun --out got@all\nconst got = [await half.allreduce(rank), rank === 2 ? await comm.recv(0, 5) : null];');
    expect(used.error).toBeUndefined();
    expect((await k.run('JSON.stringify(got)')).result).toBe('[[2,null],[1,null],[2,"from cell one"]]');
    await k.run('function version() { return 1; }');
    await k.run('%%mpirun --out v1\nconst v1 = version();');
    await k.run('function version() { return 2; }');
    await k.run('%%mpirun --out v2\nconst v2 = version();');
    expect((await k.run('[v1, v2]')).result).toBe('[ 1, 2 ]');
  });

  it('scatters and gathers on a one-off -np world too', async () => {
    const r = await k.run('%%mpirun -np 4 --scatter words --gather upper\nconst upper = words.map((w) => w.toUpperCase() + rank);');
    expect(r.error).toBeUndefined();
    expect((await k.run('upper.join(" ")')).result).toBe('A0 B0 C1 D2 E3');
  });

  it('answers wrong %mpirun lines with one line naming the fix, leaving the session open', async () => {
    expect((await k.run('%mpirun --session')).error?.evalue).toBe('%mpirun: --session needs the number of ranks, e.g. %mpirun --session -np 4');
    expect((await k.run('%mpirun --session -np 2 run.ts')).error?.evalue).toMatch(/^%mpirun: --session and --close take no file \(got run\.ts\)/);
    expect((await k.run('%mpirun --session --close')).error?.evalue).toBe('%mpirun: give --session -np N to start a session, or --close to end it, not both');
    expect((await k.run('%mpirun -np 2')).error?.evalue).toMatch(/^%mpirun: give the script to run/);
    expect((await k.run('%%mpirun --gather 1x\n1;')).error?.evalue).toBe('%%mpirun: --gather 1x is not a variable name; use --gather NAME');
    expect((await k.run('%mpirun')).stdout).toMatch(/^%mpirun session: 3 ranks/);
  });

  it('pushes, pulls, scatters uneven chunks and gathers them in rank order', async () => {
    const r = await k.run('%%mpirun --in factor --scatter data --scatter words --gather scaled --out lens@all\nconst scaled = data.map((v) => v * factor);\nconst lens = [data.length, words.join("")];');
    expect(r.error).toBeUndefined();
    expect((await k.run('JSON.stringify(lens)')).result).toBe('[[4,"ab"],[3,"cd"],[3,"e"]]');
    expect((await k.run('[scaled instanceof Float64Array, Array.from(scaled).join(",")]')).result).toBe("[ true, '3,6,9,12,15,18,21,24,27,30' ]");
    // What was pushed stays on the ranks for later cells.
    const later = await k.run('%%mpirun --out again@all\nconst again = data.length * factor;');
    expect((await k.run('again')).result).toBe('[ 12, 9, 9 ]');
    expect(later.error).toBeUndefined();
  });

  it('names what is missing or cannot be sent, and the fix', async () => {
    expect((await k.run('%%mpirun --in nothing\n1;')).error?.evalue).toBe('%%mpirun: --in nothing: the notebook has no variable nothing; define it in a cell first (const nothing = ...)');
    expect((await k.run('%%mpirun --scatter factor\n1;')).error?.evalue).toMatch(/^%%mpirun: --scatter factor: factor is not an array or typed array; .*--in factor/);
    await k.run('const live = { f: () => 1 };');
    expect((await k.run('%%mpirun --in live\n1;')).error?.evalue).toMatch(/^%%mpirun: --in live: live cannot be sent to the ranks \(.+\); send plain data/);
    expect((await k.run('%%mpirun --gather nowhere\n1;')).error?.evalue).toMatch(/--gather nowhere: no cell of the session declares nowhere/);
    expect((await k.run('%%mpirun --gather count\n1;')).error?.evalue).toMatch(/--gather count: rank 0 has a number, not an array/);
  });

  it('fails the cell with the rank that threw, and the next cell finds the state intact', async () => {
    const failed = await k.run('%%mpirun\nif (rank === 1) throw new RangeError("rank one fails");\nawait comm.recv(1, 99);');
    expect(failed.error?.evalue).toBe('rank 1: RangeError: rank one fails');
    const next = await k.run('%%mpirun --out kept@all\nconst kept = count;');
    expect(next.error).toBeUndefined();
    expect((await k.run('kept')).result).toBe('[ 2, 12, 22 ]');
  });

  it("withdraws a failed cell's pending receives, so a later cell's messages on the same source and tag reach its own", async () => {
    // Rank 0 is waiting when the cell is dropped; rank 1 fails with a receive of its own posted.
    const failed = await k.run(
      '%%mpirun\nconst early = rank === 0 ? comm.Irecv(new Float64Array(2), 1, 43) : rank === 1 ? comm.irecv(0, 44) : null;\nif (rank === 1) throw new Error("rank one fails");\nif (rank === 0) await comm.recv(1, 42);',
    );
    expect(failed.error?.evalue).toBe('rank 1: Error: rank one fails');
    const next = await k.run(
      [
        '%%mpirun --timeout 3 --out got --out mine@all',
        'if (rank === 1) {',
        '  await comm.send("second", 0, 42);',
        '  await comm.Send(new Float64Array([7, 8]), 0, 43);',
        '}',
        'const mine = rank === 0 ? await comm.send("for one", 1, 44) : rank === 1 ? await comm.recv(0, 44) : null;',
        'const into = new Float64Array(2);',
        'let got: unknown[] = [];',
        'if (rank === 0) got = [await comm.recv(1, 42), await comm.Recv(into, 1, 43).then(() => Array.from(into)), await early!.wait().then(() => "completed", (e: Error) => e.message)];',
      ].join('\n'),
    );
    expect(next.error).toBeUndefined();
    expect((await k.run('JSON.stringify(mine)')).result).toBe('[null,"for one",null]');
    expect((await k.run('JSON.stringify(got)')).result).toBe(
      JSON.stringify(['second', [7, 8], 'this receive was withdrawn when the %mpirun session cell that posted it was dropped (it failed or was interrupted); post it again in a new cell']),
    );
  });

  it('runs a one-off -np world beside the session without touching it', async () => {
    const once = await k.run('%%mpirun -np 2 --out sizes@all\nconst sizes = size;');
    expect(once.error).toBeUndefined();
    expect((await k.run('sizes')).result).toBe('[ 2, 2 ]');
    const session = await k.run('%%mpirun --out still@all\nconst still = [size, count];');
    expect((await k.run('JSON.stringify(still)')).result).toBe('[[3,2],[3,12],[3,22]]');
    expect(session.error).toBeUndefined();
  });

  it('groups each rank\'s output together with --group-outputs rank', async () => {
    const r = await k.run('%%mpirun --group-outputs rank\nfor (let i = 0; i < 3; i++) { console.log(`line ${i}`); await comm.barrier(); }');
    expect(r.stdout.trim().split('\n')).toEqual([0, 1, 2].flatMap((rank) => [0, 1, 2].map((i) => `[rank ${rank}] line ${i}`)));
  });

  it('stops a waiting cell on interrupt and keeps the session and its state', async () => {
    const pending = k.start('%%mpirun\nawait comm.recv(0, 4242);');
    await delay(1500);
    await k.kernel.client.interrupt();
    const r = await pending;
    expect(r.error?.ename).toBe('KeyboardInterrupt');
    const next = await k.run('%%mpirun --out after@all\nconst after = count;');
    expect(next.error).toBeUndefined();
    expect((await k.run('after')).result).toBe('[ 2, 12, 22 ]');
  });

  it("a cell dropped inside a blocking collective does not hold up the next cell's collectives on that communicator", async () => {
    // Rank 0's Bcast waits for ever to hand its large message over (on mpi it is native, started
    // at the call and never queued); the next cell's gather on comm must not queue behind it.
    // Its message stays unreceived (a known limit), so this runs just before the session ends.
    const stuck = await k.run('%%mpirun --timeout 1\nif (rank === 0) await comm.Bcast(new Float64Array(1 << 20), 0);');
    if (backend === 'processes') expect(stuck.error).toBeUndefined(); // the sockets take the whole message: nothing waits
    else expect(stuck.error?.evalue).toMatch(/^deadlock: [\s\S]*rank 0 waiting in Bcast\(root=0\)/);
    const next = await k.run('%%mpirun --timeout 5 --out gathered\nconst gathered = await comm.gather(rank * 2, 0);');
    expect(next.error).toBeUndefined();
    expect((await k.run('JSON.stringify(gathered)')).result).toBe('[0,2,4]');
  });

  it('reports a rank that died and says how to start a new session', async () => {
    // Last but one: the death closes the session.
    const r = await k.run('%%mpirun\nif (rank === 2) process.exit(3);\nawait comm.barrier();');
    expect(r.error?.evalue).toMatch(/rank 2 of the %mpirun session died \(.+\), so the session is closed/);
    const next = await k.run('%%mpirun\n1;');
    expect(next.error?.evalue).toMatch(new RegExp(`start a new one with %mpirun --session -np 3${backend === 'threads' ? '' : ` --backend ${backend}`}`));
    expect(await survivors(rankProcesses(k.pid))).toEqual([]);
  });

  it(`${backend === 'threads' ? 'stops a busy cell, keeping the state' : 'restarts the session when a busy cell cannot be stopped, saying what was lost'}; --close leaves nothing`, async () => {
    expect((await k.run(`%mpirun --session -np 2 --backend ${backend}`)).error).toBeUndefined();
    await k.run('%%mpirun\nconst mine = rank + 5;');
    const pending = k.start('%%mpirun\nwhile (true) {}');
    await delay(1500);
    await k.kernel.client.interrupt();
    const r = await pending;
    expect(r.error?.ename).toBe('KeyboardInterrupt');
    if (backend === 'threads') {
      // Worker threads are cut off through the inspector: the ranks and their names stay.
      const next = await k.run('%%mpirun --out kept@all\nconst kept = mine;');
      expect(next.error).toBeUndefined();
      expect(next.stderr).toBe('');
      expect((await k.run('kept')).result).toBe('[ 5, 6 ]');
    } else {
      const next = await k.run('%%mpirun --out fresh@all\nconst fresh = rank;');
      expect(next.error).toBeUndefined();
      expect(next.stderr).toMatch(/did not stop \(busy in a loop\), so the session was restarted with 2 new ranks; what its cells defined is gone \(mine\)/);
      expect((await k.run('fresh')).result).toBe('[ 0, 1 ]');
    }
    const closed = await k.run('%mpirun --close');
    expect(closed.stdout).toBe(`closed the %mpirun session (2 ranks on ${backend})\n`);
    expect(await survivors(rankProcesses(k.pid))).toEqual([]);
    expect(tempDirsOf(k.pid)).toEqual([]);
    for (let i = 0; i < 40 && threadsOf(k.pid) > threadsBefore; i++) await delay(50);
    expect(threadsOf(k.pid)).toBeLessThanOrEqual(threadsBefore);
    expect(fdsOf(k.pid)).toBeLessThanOrEqual(fdsBefore); // no socket or pipe of a rank is left open
  });
});

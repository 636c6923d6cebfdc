/**
 * Point-to-point on every transport: objects (send/recv/isend/irecv/sendrecv/probe) and typed
 * arrays (Send/Recv/Isend/Irecv/Sendrecv), the same test names under each backend.
 * Rank code is plain JavaScript (it runs in other threads and processes): it returns what it
 * saw and the assertions run here.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRanks, type RankFunction } from '../dist/src/comm/index.js';
import { backends, type Backend } from './fixtures/comm/backends.js';
import { expectNoLeaks, resources, type Resources } from './fixtures/comm/leaks.js';

type Comm = Parameters<RankFunction>[0];

describe.each(backends)('%s', (backend: Backend) => {
  const run = <R>(np: number, code: (comm: Comm, rank: number, size: number, data: any) => Promise<R>, data?: unknown) =>
    runRanks<R>({ np, backend, code: code as RankFunction, data, onOutput: () => {} });

  let before: Resources;
  beforeAll(async () => {
    await run(2, async (comm) => comm.barrier()); // warm up: libuv's pool threads, module caches
    before = resources();
  });
  afterEach(async () => expectNoLeaks(before));

  it('send/recv moves structured-clone values; tags select; status tells source, tag and count', async () => {
    const [, got] = await run(2, async (comm, rank) => {
      if (rank === 0) {
        await comm.send({ a: 1, when: new Date(0), m: new Map([[1, 'x']]), big: 10n, f: new Float32Array([1.5]) }, 1, 5);
        await comm.send('second', 1, 6);
        return undefined;
      }
      const { Status } = require('tslab-parallel');
      const s6 = new Status();
      const second = await comm.recv(0, 6, s6); // taken out of order, by tag
      const s5 = new Status();
      const first = await comm.recv(0, 5, s5);
      return { first, second, s5: [s5.source, s5.tag, s5.count > 0], s6: [s6.source, s6.tag, s6.count] };
    });
    expect(got).toEqual({
      first: { a: 1, when: new Date(0), m: new Map([[1, 'x']]), big: 10n, f: new Float32Array([1.5]) },
      second: 'second',
      s5: [0, 5, true],
      s6: [0, 6, 7],
    });
  });

  it('recv from ANY_SOURCE with ANY_TAG gets every sender once', async () => {
    const [got] = await run(3, async (comm, rank) => {
      if (rank > 0) return comm.send(rank * 10, 0, rank);
      const { Status } = require('tslab-parallel');
      const seen = [];
      for (let i = 0; i < 2; i++) {
        const s = new Status();
        const v = await comm.recv(undefined, undefined, s);
        seen.push([s.source, s.tag, v]);
      }
      return seen.sort();
    });
    expect(got).toEqual([
      [1, 1, 10],
      [2, 2, 20],
    ]);
  });

  it('messages from one sender arrive in order, small and large mixed', async () => {
    const [, got] = await run(2, async (comm, rank) => {
      const n = 40;
      if (rank === 0) {
        const reqs = [];
        for (let i = 0; i < n; i++) {
          reqs.push(i % 3 === 0 ? comm.Isend(new Float64Array(i % 2 ? 40000 : 3).fill(i), 1, 1) : comm.isend(i % 5 ? i : 'x'.repeat(200000) + i, 1, 1));
        }
        await require('tslab-parallel').Request.waitall(reqs);
        return [];
      }
      const order = [];
      for (let i = 0; i < n; i++) {
        const v = await comm.recv(0, 1);
        order.push(typeof v === 'number' ? v : typeof v === 'string' ? Number(v.slice(200000)) : v[0]);
      }
      return order;
    });
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('more small messages than the mailbox holds wait their turn and arrive in order', async () => {
    const [, got] = await run(2, async (comm, rank) => {
      const n = 3000; // 3000 × 1 KiB: far more than one ring between two ranks holds
      if (rank === 0) {
        for (let i = 0; i < n; i++) await comm.Send(new Int32Array(256).fill(i), 1, 3);
        await comm.barrier(); // rank 1 starts receiving only now
        return null;
      }
      await comm.barrier();
      const buf = new Int32Array(256);
      let inOrder = true;
      for (let i = 0; i < n; i++) {
        await comm.Recv(buf, 0, 3);
        if (buf[0] !== i || buf[255] !== i) inOrder = false;
      }
      return inOrder;
    });
    expect(got).toBe(true);
  });

  it('isend/irecv return requests: wait, test, waitall, waitany, testall', async () => {
    const [got] = await run(2, async (comm, rank) => {
      const { Request } = require('tslab-parallel');
      if (rank === 1) {
        await comm.recv(0, 99); // go
        await comm.send('b', 0, 2);
        await comm.recv(0, 98); // b was seen first
        await comm.send('a', 0, 1);
        await comm.send('c', 0, 3);
        return null;
      }
      const ra = comm.irecv(1, 1);
      const rb = comm.irecv(1, 2);
      const rc = comm.irecv(1, 3);
      const before = [ra.test()[0], Request.testall([ra, rb])[0]];
      await comm.isend('go', 1, 99).wait();
      const [index, first] = await Request.waitany([ra, rb]);
      await comm.send('ack', 1, 98);
      const all = await Request.waitall([ra, rb]);
      const c = await rc.wait();
      const [done, value] = rc.test();
      return { before, index, first, all, c, after: [done, value], testall: Request.testall([ra, rb, rc]) };
    });
    expect(got).toEqual({
      before: [false, false],
      index: 1,
      first: 'b',
      all: ['a', 'b'],
      c: 'c',
      after: [true, 'c'],
      testall: [true, ['a', 'b', 'c']],
    });
  });

  it('sendrecv passes values around a ring without deadlock', async () => {
    const got = await run(3, async (comm, rank, size) => comm.sendrecv(rank, (rank + 1) % size, 0, (rank + size - 1) % size, 0));
    expect(got).toEqual([2, 0, 1]);
  });

  it('probe waits for a message and iprobe looks without waiting; neither receives it', async () => {
    const [, got] = await run(2, async (comm, rank) => {
      if (rank === 0) {
        await comm.barrier();
        await comm.send([1, 2, 3], 1, 9);
        return null;
      }
      const early = comm.iprobe(0, 9);
      await comm.barrier();
      const s = await comm.probe(0, 9);
      const again = comm.iprobe(undefined, 9);
      const value = await comm.recv(0, 9);
      return { early: early === undefined, probed: [s.source, s.tag, s.count > 0], again: again && again.source, value, after: comm.iprobe() };
    });
    expect(got).toEqual({ early: true, probed: [0, 9, true], again: 0, value: [1, 2, 3], after: undefined });
  });

  it('PROC_NULL: sends do nothing, receives complete at once and empty', async () => {
    const [got] = await run(1, async (comm) => {
      const { PROC_NULL, Status } = require('tslab-parallel');
      await comm.send('lost', PROC_NULL);
      await comm.Send(new Float64Array(4), PROC_NULL);
      const s = new Status();
      const v = await comm.recv(PROC_NULL, 0, s);
      const buf = new Float64Array([7]);
      const sb = await comm.Recv(buf, PROC_NULL);
      return { v, s: [s.source, s.count], sb: [sb.source, sb.count], buf: buf[0] };
    });
    expect(got).toEqual({ v: undefined, s: [-2, 0], sb: [-2, 0], buf: 7 });
  });

  it('a rank can send to itself', async () => {
    const [got] = await run(1, async (comm) => {
      await comm.send({ x: 1 }, 0, 3);
      const r = comm.Irecv(new Int32Array(2), 0, 4);
      await comm.Send(new Int32Array([5, 6]), 0, 4);
      await r.wait();
      return [await comm.recv(0, 3), r.test()[1].count];
    });
    expect(got).toEqual([{ x: 1 }, 2]);
  });

  it('Send/Recv fill the caller’s buffer; Status.count is in elements of the receive buffer', async () => {
    const [, got] = await run(2, async (comm, rank) => {
      if (rank === 0) return comm.Send(new Float64Array([1, 2, 3]), 1, 4);
      const buf = new Float64Array(5).fill(-1);
      const s = await comm.Recv(buf, 0, 4);
      return { buf: Array.from(buf), count: s.count, source: s.source, tag: s.tag };
    });
    expect(got).toEqual({ buf: [1, 2, 3, -1, -1], count: 3, source: 0, tag: 4 });
  });

  it('recv() of a Send() returns a typed array of the sender’s type; Recv() of a send() is an error', async () => {
    const [, got] = await run(2, async (comm, rank) => {
      if (rank === 0) {
        await comm.Send(new Int16Array([1, -2]), 1, 1);
        await comm.Send(new Uint8Array(200000).fill(3), 1, 2);
        await comm.send({ not: 'an array' }, 1, 3);
        return null;
      }
      const small = await comm.recv(0, 1);
      const large = await comm.recv(0, 2);
      let message = '';
      try {
        await comm.Recv(new Float64Array(4), 0, 3);
      } catch (err) {
        message = err.message;
      }
      return { small: [small.constructor.name, Array.from(small)], large: [large.constructor.name, large.length, large[199999]], message };
    });
    expect(got).toEqual({
      small: ['Int16Array', [1, -2]],
      large: ['Uint8Array', 200000, 3],
      message:
        'Recv: the message from rank 0 (tag 3) is an object sent with send(), not a typed array; receive it with recv()/irecv(), or send it with Send() as a typed array',
    });
  });

  it('Irecv into views, Send, Waitall: a halo exchange', async () => {
    const got = await run(3, async (comm, rank, size) => {
      const { Request } = require('tslab-parallel');
      const n = 4;
      const C = new Float64Array(3 * n).fill(rank); // rows: halo, own, halo
      const reqs = [];
      if (rank > 0) reqs.push(comm.Irecv(C.subarray(0, n), rank - 1));
      if (rank < size - 1) reqs.push(comm.Irecv(C.subarray(2 * n), rank + 1));
      if (rank > 0) await comm.Send(C.subarray(n, 2 * n), rank - 1);
      if (rank < size - 1) await comm.Send(C.subarray(n, 2 * n), rank + 1);
      await Request.waitall(reqs);
      return [C[0], C[n], C[2 * n]];
    });
    expect(got).toEqual([
      [0, 0, 1],
      [0, 1, 2],
      [1, 2, 2],
    ]);
  });

  it('large typed arrays arrive intact, whether the receive was posted before or after', async () => {
    const [, got] = await run(2, async (comm, rank) => {
      const n = 3_000_000;
      if (rank === 0) {
        const a = new Float64Array(n).map((_, i) => i * 0.5);
        await comm.barrier(); // rank 1 has posted its first receive
        await comm.Send(a, 1, 1);
        await comm.Send(a.subarray(1), 1, 2); // rank 1 receives this one late
        return null;
      }
      const first = new Float64Array(n);
      const r = comm.Irecv(first, 0, 1);
      await comm.barrier();
      await r.wait();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const second = new Float64Array(n);
      const s = await comm.Recv(second, 0, 2);
      let ok = true;
      for (let i = 0; i < n; i++) if (first[i] !== i * 0.5 || (i < n - 1 && second[i] !== (i + 1) * 0.5)) ok = false;
      return { ok, count: s.count };
    });
    expect(got).toEqual({ ok: true, count: 2_999_999 });
  });

  it('Sendrecv exchanges typed arrays', async () => {
    const got = await run(2, async (comm, rank) => {
      const out = new Int32Array(3);
      const s = await comm.Sendrecv(new Int32Array([rank, rank, rank]), 1 - rank, 0, out, 1 - rank, 0);
      return [Array.from(out), s.source];
    });
    expect(got).toEqual([
      [[1, 1, 1], 1],
      [[0, 0, 0], 0],
    ]);
  });

  it('too small a receive buffer is MPI_ERR_TRUNCATE, small or large, and later messages still arrive', async () => {
    const [, got] = await run(2, async (comm, rank) => {
      if (rank === 0) {
        await comm.Send(new Float64Array(10), 1, 1);
        await comm.Send(new Float64Array(1_000_000), 1, 2);
        await comm.Send(new Float64Array([42]), 1, 3);
        return null;
      }
      const errors = [];
      for (const tag of [1, 2]) {
        try {
          await comm.Recv(new Float64Array(5), 0, tag);
        } catch (err) {
          errors.push([err.code, err.message]);
        }
      }
      const last = new Float64Array(1);
      await comm.Recv(last, 0, 3);
      return { errors, last: last[0] };
    });
    expect(got).toEqual({
      errors: [
        [
          'MPI_ERR_TRUNCATE',
          'message truncated (MPI_ERR_TRUNCATE): the Float64Array message from rank 0 (tag 1) brought 80 bytes but the receive buffer holds 40; receive into a buffer of at least 80 bytes (use probe() to learn the size first)',
        ],
        [
          'MPI_ERR_TRUNCATE',
          'message truncated (MPI_ERR_TRUNCATE): the Float64Array message from rank 0 (tag 2) brought 8000000 bytes but the receive buffer holds 40; receive into a buffer of at least 8000000 bytes (use probe() to learn the size first)',
        ],
      ],
      last: 42,
    });
  });

  it('wrong arguments are errors that name the argument and the fix', async () => {
    const [got] = await run(2, async (comm, rank) => {
      if (rank === 1) return [];
      const messages = [];
      const attempt = (f: () => unknown) => {
        try {
          f();
        } catch (err) {
          messages.push(`${err.name}: ${err.message}`);
        }
      };
      attempt(() => comm.isend(1, 2));
      attempt(() => comm.irecv(0, -5));
      attempt(() => comm.Isend([1, 2] as never, 1));
      attempt(() => comm.isend(1, 1, 1.5));
      attempt(() => comm.isend(() => 1, 1));
      return messages;
    });
    expect(got).toEqual([
      'RangeError: isend: dest=2 is not a rank of this communicator of size 2; pass an integer from 0 to 1 (or PROC_NULL)',
      'RangeError: irecv: tag=-5 is not a valid tag; pass an integer from 0 to 2147483647 (or ANY_TAG)',
      'TypeError: Isend: buf must be a typed array (e.g. Float64Array), got an array of length 2; use the lower-case isend() for other values',
      'RangeError: isend: tag=1.5 is not a valid tag; pass an integer from 0 to 2147483647',
      'DataCloneError: this value cannot be sent to another rank (() => 1 could not be cloned.); send plain data: numbers, strings, arrays, objects, typed arrays',
    ]);
  });
});

/** Values that cannot be shipped: each message names the variable, its cell, why, and the fix. */
import * as net from 'node:net';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ship, UnshippableError } from '../dist/src/ship/index.js';
import { NotebookFixture } from './fixtures/ship/notebook-fixture.js';

const fixtureDir = path.join(__dirname, 'fixtures', 'ship');
const sockets: net.Socket[] = [];
afterAll(() => sockets.forEach((s) => s.destroy()));

function shipError(nb: NotebookFixture, name: string): UnshippableError {
  try {
    ship({ [name]: nb.exports[name] as Function }, { definitions: nb });
  } catch (err) {
    if (err instanceof UnshippableError) return err;
    throw err;
  }
  throw new Error('expected an UnshippableError');
}

describe('unshippable values', () => {
  it('a socket: names the variable, its cell and the fix', () => {
    const nb = new NotebookFixture(fixtureDir);
    const socket = new net.Socket();
    sockets.push(socket);
    (globalThis as Record<string, unknown>).__socket = socket;
    nb.run('const conn = (globalThis as any).__socket;');
    nb.run('function task(x: number) { return conn.write(String(x)); }');
    const err = shipError(nb, 'task');
    expect(err.message).toBe(
      "Cannot send 'conn' (from cell In[1]), which 'task' refers to, to workers: it is a socket (net.Socket); sockets, streams and other OS handles belong to the process that opened them and cannot be copied to a worker. Fix: create it inside the task (open the connection in the function the workers run) and pass only plain data such as a host and port.",
    );
    expect(err).toMatchObject({ variable: 'conn', cell: 'cell In[1]', via: ['task'] });
  });

  it('a closure over live state: names the function, the captured variable and the fix', () => {
    const nb = new NotebookFixture(fixtureDir);
    nb.run('function makeCounter() { let count = 0; return (x: number) => x + count++; }\nconst counter = makeCounter();');
    const err = shipError(nb, 'counter');
    expect(err.message).toBe(
      "Cannot send 'counter' (from cell In[1]) to workers: it is a closure over live state: it refers to 'count', a variable of an enclosing function that workers cannot see. Fix: pass 'count' as an argument (or bind it with partial), or define 'count' at the top level of a cell.",
    );
  });

  it('a class instance with methods: names the class and the fix', () => {
    const nb = new NotebookFixture(fixtureDir);
    nb.run('class Account { constructor(public balance: number) {} deposit(x: number) { this.balance += x; } }\nconst account = new Account(10);');
    nb.run('function task(x: number) { return account.balance + x; }');
    const err = shipError(nb, 'task');
    expect(err.message).toBe(
      "Cannot send 'account' (from cell In[1]), which 'task' refers to, to workers: it is an instance of class Account, which has methods; a copy would keep only its fields. Fix: use a plain object (e.g. { ...value }) and call functions on it inside the task, or construct the Account inside the task.",
    );
  });

  it('a value deep inside data is named by its path', () => {
    const nb = new NotebookFixture(fixtureDir);
    (globalThis as Record<string, unknown>).__stream = new PassThrough();
    nb.run('const io = { logs: [1, (globalThis as any).__stream] };');
    nb.run('function task() { return io.logs.length; }');
    const err = shipError(nb, 'task');
    expect(err.variable).toBe('io.logs[1]');
    expect(err.message).toContain('it is a stream (PassThrough)');
    expect(err.message).toContain('Fix: create the stream inside the task');
  });

  it('symbols, promises and bound functions', () => {
    const nb = new NotebookFixture(fixtureDir);
    nb.run('const tag = Symbol("t");\nconst pending = Promise.resolve(1);\nconst bound = Math.max.bind(null, 1);\nfunction f(x: number) { return x; }\nconst boundLocal = f.bind(null, 2);');
    nb.run('function useTag() { return tag; }\nfunction usePending() { return pending; }\nfunction useBound() { return boundLocal(); }');
    expect(shipError(nb, 'useTag').message).toContain("'tag' (from cell In[1]), which 'useTag' refers to, to workers: it is a symbol");
    expect(shipError(nb, 'usePending').message).toContain('it is a Promise, which only has meaning in the thread that created it. Fix: await it first and pass the result.');
    expect(shipError(nb, 'useBound').message).toContain(
      'a function whose source is not available (a bound function, or a native function that is not a property of a well-known global). Fix: use partial(fn, ...) instead of fn.bind(...)',
    );
  });

  it('a name no cell defines any more', () => {
    const nb = new NotebookFixture(fixtureDir);
    const err = (() => {
      try {
        ship({ task: new Function('x', 'return exports.gone(x)') }, { definitions: nb });
      } catch (e) {
        return e as UnshippableError;
      }
      return undefined;
    })();
    expect(err?.message).toContain("it refers to exports.gone, but no cell defines 'gone'");
  });

  it('standalone (no notebook): a free name asks to pass the value as an argument or bind it with partial', () => {
    const factor = 3;
    expect(() => ship({ scale: (x: number) => x * factor })).toThrow(
      "Cannot send 'scale' to workers: it refers to 'factor', which is neither a global nor one of its parameters. Fix: pass 'factor' as an argument or bind it with partial(fn, ...).",
    );
  });
});

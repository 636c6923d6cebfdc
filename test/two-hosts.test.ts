/**
 * The two-host test bed (helpers/two-hosts.ts) itself: mpirun starts ranks on both hosts, each
 * with its own hostname, and they talk over TCP across the hosts; closing it leaves nothing
 * behind, nor does a process that ends without closing it (an exit, an uncaught error, SIGTERM).
 */
import { execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mpiUnavailable } from './fixtures/comm/backends.js';
import { leftOver, makeTwoHosts, twoHostsUnavailable, type TwoHosts } from './helpers/two-hosts.js';

const compiled = path.resolve(__dirname, '..', 'dist', 'test', 'helpers', 'two-hosts.js');

/** A process that makes a test bed, says so, then ends as `how` says; resolves with its pid once it is gone. */
function childThatEnds(how: 'exit' | 'throw' | 'SIGTERM'): Promise<number> {
  const code = `
    const bed = require(${JSON.stringify(compiled)}).makeTwoHosts();
    console.log('made ' + bed.hosts[0].name);
    ${how === 'exit' ? 'process.exit(3);' : how === 'throw' ? "setTimeout(() => { throw new Error('boom'); }, 10);" : 'setInterval(() => {}, 1000);'}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (how === 'SIGTERM' && out.includes('made')) child.kill('SIGTERM');
    });
    child.on('error', reject);
    child.on('close', () => (out.includes(`made tsp-${child.pid}-`) ? resolve(child.pid!) : reject(new Error(`the child made no test bed: ${out}`))));
  });
}

describe.skipIf(twoHostsUnavailable)('two test hosts', () => {
  let bed: TwoHosts;
  beforeAll(() => {
    bed = makeTwoHosts();
  });
  afterAll(() => bed?.close());

  it('each host has its own hostname and address, and reaches the other', () => {
    const [a, b] = bed.hosts;
    expect(bed.exec(a, 'hostname', [])).toBe(`${a.name}\n`);
    expect(bed.exec(b, 'hostname', [])).toBe(`${b.name}\n`);
    expect(bed.exec(a, 'ip', ['-4', '-o', 'addr', 'show', 'eth0'])).toContain(`inet ${a.address}/30`);
    const script = `const s = require('net').createServer((c) => c.end(require('os').hostname())).listen(7070, '${b.address}', () => process.send?.('')); setTimeout(() => s.close(), 20000).unref();`;
    const server = spawn(bed.agent, [b.address, `${process.execPath} -e ${JSON.stringify(script)}`], { stdio: 'ignore' });
    try {
      const client = `const c = require('net').connect(7070, '${b.address}'); let t = ''; c.on('data', (d) => (t += d)); c.on('end', () => console.log(t)); c.on('error', () => setTimeout(() => process.exit(1), 0));`;
      let said = '';
      for (let i = 0; i < 50 && !said; i++) {
        try {
          said = bed.exec(a, process.execPath, ['-e', client]);
        } catch {
          execFileSync('sleep', ['0.1']);
        }
      }
      expect(said.trim()).toBe(b.name);
    } finally {
      server.kill();
    }
  });

  it.skipIf(mpiUnavailable)('mpirun runs ranks on both hosts through the agent', () => {
    const out = execFileSync('mpirun', ['-np', '4', '--hostfile', bed.hostfile, ...bed.mpirunArgs, 'hostname'], { encoding: 'utf8' });
    const [a, b] = bed.hosts;
    expect(out.trim().split('\n').sort()).toEqual([a.name, a.name, b.name, b.name]);
  });

  it('close() removes the namespaces, links and files, and may be called twice', () => {
    const before = leftOver(); // the file's own test bed
    const other = makeTwoHosts();
    expect(leftOver().length).toBeGreaterThan(before.length);
    other.close();
    other.close();
    expect(leftOver()).toEqual(before);
  });

  it.each(['exit', 'throw', 'SIGTERM'] as const)('a process that ends (%s) without closing leaves nothing behind', async (how) => {
    const pid = await childThatEnds(how);
    expect(leftOver(pid)).toEqual([]);
  });
});

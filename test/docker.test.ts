/**
 * docker/: the one-command JupyterLab lab. No Docker engine runs where the tests do, so this file
 * checks what can be checked without one, each against the real thing:
 * - docker-compose.yml as `docker-compose config` reads it (Debian's docker-compose, installed by
 *   scripts/setup-system.sh), with and without the mpi profile: the lab on 127.0.0.1 only, the
 *   token from the environment, the notebooks mounted, the healthcheck on the server's API, the
 *   MPI hosts with the same paths as the lab and named in docker/hostfile;
 * - the Dockerfile: it RUNs the project's install scripts, the same ones .ci/run runs (and not a
 *   copy of their steps), and runs as a non-root user; what it COPYs is sent by .dockerignore;
 * - the scripts the image runs, through `bash -n` / `node --check`; start-lab.sh and
 *   healthcheck.mjs against a real `jupyter server` (Debian's), start-mpi-host.sh's wait.
 * The install scripts themselves (scripts/setup-system.sh, scripts/install-project.sh) are
 * exercised by CI: .ci/run runs them on a fresh machine before `npm test`.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJupyterEnv, kPython, type JupyterEnv } from './helpers/jupyter-env.js';
import { freePorts } from '../dist/src/protocol/connection.js';

const kRoot = join(__dirname, '..');
const kDocker = join(kRoot, 'docker');
const kComposeFile = join(kDocker, 'docker-compose.yml');
/** Where the Dockerfile puts the repository in the image. */
const kImageRoot = '/opt/tslab-parallel';
/** The settings docker-compose.yml reads from the environment. */
const kComposeVariables = ['JUPYTER_TOKEN', 'LAB_PORT', 'LAB_NOTEBOOKS', 'LAB_UID', 'LAB_GID'];

const read = (file: string) => readFileSync(join(kRoot, file), 'utf8');
/** A path in the image that comes from the repository, as a path in this checkout. */
const fromImage = (path: string) => {
  expect(path.startsWith(`${kImageRoot}/`), `${path} is under ${kImageRoot}`).toBe(true);
  return join(kRoot, path.slice(kImageRoot.length + 1));
};

// ---------------------------------------------------------------- docker-compose config

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  hostname?: string;
  profiles?: string[];
  entrypoint?: string[] | string;
  environment?: Record<string, string>;
  ports?: (string | { host_ip?: string; published: string | number; target: string | number })[];
  volumes?: (string | { type: string; source: string; target: string })[];
  healthcheck?: { test: string[] | string };
  depends_on?: string[] | Record<string, unknown>;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const tmp = mkdtempSync(join(tmpdir(), 'tslab-parallel-docker-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** `docker-compose config` with only `vars` of the compose settings set (no .env file), as JSON. */
function composeConfig(vars: Record<string, string> = {}, profile?: string): Compose {
  const env: NodeJS.ProcessEnv = { ...process.env, ...vars };
  for (const name of Object.keys(env)) if ((kComposeVariables.includes(name) || name.startsWith('COMPOSE_')) && !(name in vars)) delete env[name];
  const emptyEnvFile = join(tmp, 'empty.env');
  writeFileSync(emptyEnvFile, '');
  const args = ['-f', kComposeFile, '--env-file', emptyEnvFile, ...(profile ? ['--profile', profile] : []), 'config'];
  const yaml = execFileSync('docker-compose', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  // Debian's docker-compose runs on python3-yaml, so Debian's Python has it.
  const json = execFileSync(kPython, ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], { input: yaml, encoding: 'utf8' });
  return JSON.parse(json) as Compose;
}

/** Port bindings in either of the forms docker-compose config prints (short or long syntax). */
function ports(service: Service): { hostIp: string; published: string; target: string }[] {
  return (service.ports ?? []).map((p) => {
    if (typeof p !== 'string') return { hostIp: p.host_ip ?? '', published: String(p.published), target: String(p.target) };
    const parts = p.replace(/\/(tcp|udp)$/, '').split(':');
    return parts.length === 3 ? { hostIp: parts[0]!, published: parts[1]!, target: parts[2]! } : { hostIp: '', published: parts[0]!, target: parts.at(-1)! };
  });
}

/** Mounts as { source, target }, from either form. */
function mounts(service: Service): { source: string; target: string }[] {
  return (service.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return { source: v.source, target: v.target };
    const [source, target] = v.split(':');
    return { source: source!, target: target! };
  });
}

function hostfileHosts(): string[] {
  return read('docker/hostfile')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean)
    .map((l) => l.split(/\s+/)[0]!);
}

describe('docker/docker-compose.yml, as docker-compose config reads it', () => {
  let plain: Compose;
  let mpi: Compose;
  beforeAll(() => {
    plain = composeConfig();
    mpi = composeConfig({}, 'mpi');
  });

  it('publishes the lab on 127.0.0.1 only, on LAB_PORT (default 8888)', () => {
    expect(ports(plain.services.lab!)).toEqual([{ hostIp: '127.0.0.1', published: '8888', target: '8888' }]);
    expect(ports(composeConfig({ LAB_PORT: '18999' }).services.lab!)).toEqual([{ hostIp: '127.0.0.1', published: '18999', target: '8888' }]);
    for (const [name, service] of Object.entries(mpi.services)) {
      for (const p of ports(service)) expect(p.hostIp, `${name} publishes ${p.published} beyond this machine`).toBe('127.0.0.1');
    }
  });

  it('takes the token from JUPYTER_TOKEN: passed to the lab when set, empty (start-lab.sh makes one) when not', () => {
    expect(plain.services.lab!.environment?.JUPYTER_TOKEN).toBe('');
    expect(composeConfig({ JUPYTER_TOKEN: 'chosen-token' }).services.lab!.environment?.JUPYTER_TOKEN).toBe('chosen-token');
  });

  it('mounts the notebooks folder where the lab serves from: the repository notebooks/ by default, else LAB_NOTEBOOKS', () => {
    const rootDir = (JSON.parse(read('docker/jupyter_server_config.json')) as { ServerApp: { root_dir: string } }).ServerApp.root_dir;
    expect(mounts(plain.services.lab!)).toContainEqual({ source: join(kRoot, 'notebooks'), target: rootDir });
    const elsewhere = join(tmp, 'my-notebooks');
    expect(mounts(composeConfig({ LAB_NOTEBOOKS: elsewhere }).services.lab!)).toContainEqual({ source: elsewhere, target: rootDir });
  });

  it("checks health on the server's API (/api/status) with a script the image has", () => {
    const test = plain.services.lab!.healthcheck!.test;
    expect(Array.isArray(test)).toBe(true);
    const [kind, ...command] = test as string[];
    expect(kind).toBe('CMD');
    const script = command.find((a) => a.endsWith('.mjs'))!;
    expect(existsSync(fromImage(script))).toBe(true);
    const url = new URL(command.at(-1)!);
    expect([url.hostname, url.port, url.pathname]).toEqual(['127.0.0.1', ports(plain.services.lab!)[0]!.target, '/api/status']);
  });

  it("builds the image from the repository with docker/Dockerfile, the lab user's ids from LAB_UID/LAB_GID", () => {
    const build = plain.services.lab!.build!;
    expect([build.context, build.dockerfile]).toEqual([kRoot, 'docker/Dockerfile']);
    expect(build.args).toEqual({ LAB_UID: '1000', LAB_GID: '1000' });
    expect(composeConfig({ LAB_UID: '501', LAB_GID: '20' }).services.lab!.build!.args).toEqual({ LAB_UID: '501', LAB_GID: '20' });
  });

  it('starts only the lab without a profile; the mpi profile adds the MPI hosts that docker/hostfile names', () => {
    expect(plain.services.lab!.profiles).toBeUndefined();
    const hosts = Object.entries(mpi.services).filter(([name]) => name !== 'lab');
    expect(hosts.length).toBeGreaterThan(0);
    for (const [, host] of hosts) expect(host.profiles).toEqual(['mpi']);
    expect(hostfileHosts()).toEqual([mpi.services.lab!.hostname, ...hosts.map(([, h]) => h.hostname)]);
  });

  it('gives the MPI hosts the lab image and the same paths (notebooks, ~/.ssh, TMPDIR), runs sshd there, publishes nothing', () => {
    const lab = mpi.services.lab!;
    for (const [name, host] of Object.entries(mpi.services).filter(([n]) => n !== 'lab')) {
      expect(host.image, name).toBe(lab.image);
      expect(host.build, name).toEqual(lab.build);
      expect(mounts(host), name).toEqual(mounts(lab));
      expect(host.environment?.TMPDIR, name).toBe(lab.environment?.TMPDIR);
      expect(mounts(lab).map((m) => m.target)).toContain(lab.environment?.TMPDIR);
      expect(ports(host), name).toEqual([]);
      const entrypoint = [host.entrypoint ?? []].flat();
      expect(existsSync(fromImage(entrypoint.at(-1)!)), `${name} runs ${entrypoint.join(' ')}`).toBe(true);
      expect(entrypoint.at(-1)).toMatch(/start-mpi-host\.sh$/);
      const dependsOn = Array.isArray(host.depends_on) ? host.depends_on : Object.keys(host.depends_on ?? {});
      expect(dependsOn, `${name} starts after the lab, which makes the ssh key`).toContain('lab');
    }
  });
});

// ---------------------------------------------------------------- Dockerfile

interface Instruction {
  op: string;
  args: string;
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function dockerfile(): Instruction[] {
  const out: Instruction[] = [];
  let current = '';
  for (const line of read('docker/Dockerfile').split('\n')) {
    if (/^\s*#/.test(line)) continue;
    current += line.replace(/\\\s*$/, ' ');
    if (/\\\s*$/.test(line)) continue;
    const m = /^\s*(\w+)\s+(.*)$/.exec(current);
    if (m) out.push({ op: m[1]!.toUpperCase(), args: m[2]!.trim() });
    current = '';
  }
  return out;
}

/** Whether .dockerignore's patterns keep `path` (relative to the repository) out of the build context. */
function dockerignored(path: string): boolean {
  const patterns = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const glob = (p: string) =>
    new RegExp(
      '^' +
        p
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*\*\/|\*\*|\*|\?/g, (t) => ({ '**/': '(?:.*/)?', '**': '.*', '*': '[^/]*', '?': '[^/]' })[t]!) +
        '$',
    );
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const re = glob(posix.normalize((negated ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '')));
    const parts = path.split('/');
    // A pattern that matches a folder keeps out everything in it.
    if (parts.some((_, i) => re.test(parts.slice(0, i + 1).join('/')))) ignored = !negated;
  }
  return ignored;
}

describe('docker/Dockerfile', () => {
  const steps = dockerfile();
  const runs = steps.filter((s) => s.op === 'RUN').map((s) => s.args);
  const indexOfRun = (re: RegExp) => steps.findIndex((s) => s.op === 'RUN' && re.test(s.args));

  it('is Node 20 on Debian (bookworm, the Debian CI runs on)', () => {
    expect(steps[0]).toEqual({ op: 'FROM', args: expect.stringMatching(/^node:20(\.[\d.]+)?-bookworm\b/) });
    expect(readFileSync('/etc/os-release', 'utf8'), 'the image and CI install the same Debian packages').toMatch(/VERSION_CODENAME=bookworm/);
  });

  it("installs with the project's scripts, the ones .ci/run runs, and not a copy of their steps", () => {
    const setup = indexOfRun(/\bscripts\/setup-system\.sh\b/);
    const install = indexOfRun(/\bscripts\/install-project\.sh\b/);
    expect(setup).toBeGreaterThan(0);
    expect(install).toBeGreaterThan(setup);
    const ci = read('.ci/run');
    expect(ci).toMatch(/^scripts\/setup-system\.sh\s*$/m);
    expect(ci).toMatch(/^scripts\/install-project\.sh\s*$/m);
    for (const run of runs) {
      expect(run, 'Debian packages come from scripts/setup-system.sh').not.toMatch(/apt-get\s+(-\S+\s+)*install|apt\s+install/);
      expect(run, 'the build comes from scripts/install-project.sh').not.toMatch(/npm\s+(ci|install|i)\b|npm\s+run\s+build|node-gyp|\btsc\b/);
    }
  });

  it('runs as a non-root user, from before the project is built', () => {
    const users = steps.map((s, i) => ({ ...s, i })).filter((s) => s.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const last = users.at(-1)!;
    expect(last.args).not.toMatch(/^(root|0)(:|$)/);
    expect(last.i).toBeLessThan(indexOfRun(/\bscripts\/install-project\.sh\b/));
    const ids = read('docker/setup-image.sh');
    expect(ids).toMatch(new RegExp(`useradd\\b.*\\b${last.args}\\b`));
  });

  it('pip-installs JupyterLab, the plotly renderer and nbconvert into a venv, and installs the kernelspec there', () => {
    const venv = indexOfRun(/python3 -m venv \/opt\/jupyter\b.*\/opt\/jupyter\/bin\/pip install .*-r \S*docker\/requirements\.txt/);
    expect(venv).toBeGreaterThan(0);
    const wanted = read('docker/requirements.txt')
      .split('\n')
      .map((l) => /^([A-Za-z0-9_.-]+)/.exec(l.replace(/#.*/, '').trim())?.[1])
      .filter(Boolean);
    expect(wanted).toEqual(expect.arrayContaining(['jupyterlab', 'plotly', 'nbconvert']));
    expect(indexOfRun(/node dist\/src\/cli\.js install --prefix \/opt\/jupyter\b/)).toBeGreaterThan(indexOfRun(/\bscripts\/install-project\.sh\b/));
    expect(steps.find((s) => s.op === 'ENV' && /PATH=\/opt\/jupyter\/bin:/.test(s.args))).toBeDefined();
  });

  it('starts the lab with docker/start-lab.sh', () => {
    const entrypoint = JSON.parse(steps.find((s) => s.op === 'ENTRYPOINT')!.args) as string[];
    expect(existsSync(fromImage(entrypoint.at(-1)!))).toBe(true);
    expect(entrypoint.at(-1)).toMatch(/start-lab\.sh$/);
  });

  it('gets what it COPYs in the build context, where .dockerignore keeps node_modules, dist and build out', () => {
    for (const copy of steps.filter((s) => s.op === 'COPY')) {
      const words = copy.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      for (const source of words.slice(0, -1)) {
        if (source === '.') continue;
        expect(existsSync(join(kRoot, source)), `COPY ${source}`).toBe(true);
        expect(dockerignored(source), `COPY ${source} is in .dockerignore`).toBe(false);
      }
    }
    for (const kept of ['node_modules', 'dist', 'build', 'native/build', '.git', 'bench/node_modules/x']) expect(dockerignored(kept), kept).toBe(true);
    for (const sent of ['package.json', 'package-lock.json', 'scripts/install-project.sh', 'src/cli.ts', 'notebooks', 'kernel', 'native/src', 'docker/hostfile']) {
      expect(dockerignored(sent), sent).toBe(false);
    }
  });
});

// ---------------------------------------------------------------- the scripts

describe('the scripts the image runs', () => {
  const shellScripts = [
    ...readdirSync(kDocker).filter((f) => f.endsWith('.sh')).map((f) => `docker/${f}`),
    'scripts/setup-system.sh',
    'scripts/install-project.sh',
  ];

  it.each(shellScripts)('%s parses (bash -n)', (script) => {
    const r = spawnSync('bash', ['-n', join(kRoot, script)], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('docker/healthcheck.mjs parses (node --check)', () => {
    const r = spawnSync(process.execPath, ['--check', join(kDocker, 'healthcheck.mjs')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it("setup-system.sh --lab is the image's packages (OpenSSH, venv, no test tools); without it, CI's", () => {
    const list = (...args: string[]) => execFileSync('bash', [join(kRoot, 'scripts/setup-system.sh'), ...args, '--list'], { encoding: 'utf8' }).trim().split('\n');
    const lab = list('--lab');
    const ci = list();
    expect(lab).toEqual(expect.arrayContaining(['openmpi-bin', 'libopenmpi-dev', 'build-essential', 'python3', 'python3-venv', 'openssh-client', 'openssh-server']));
    expect(lab).not.toEqual(expect.arrayContaining(['chromium']));
    expect(ci).toEqual(expect.arrayContaining(['openmpi-bin', 'libopenmpi-dev', 'build-essential', 'jupyter-nbconvert', 'python3-jupyter-server', 'chromium', 'docker-compose']));
    expect(ci).not.toContain('openssh-server');
    const bad = spawnSync('bash', [join(kRoot, 'scripts/setup-system.sh'), '--nope'], { encoding: 'utf8' });
    expect([bad.status, bad.stderr.trim()]).toEqual([2, 'setup-system.sh: unknown option --nope (valid: --lab, --list)']);
  });
});

// ---------------------------------------------------------------- start-lab.sh, healthcheck.mjs

async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}

interface Lab {
  readonly port: number;
  readonly child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** docker/start-lab.sh running Debian's `jupyter server` (the image runs `jupyter lab` the same way). */
async function startLab(env: JupyterEnv, vars: Record<string, string>): Promise<Lab> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const childEnv: NodeJS.ProcessEnv = { ...env.env, LAB_PORT: '18888', ...vars };
    if (!('JUPYTER_TOKEN' in vars)) delete childEnv.JUPYTER_TOKEN;
    const child = spawn(
      'bash',
      [
        join(kDocker, 'start-lab.sh'),
        '/usr/bin/jupyter-server',
        '--allow-root', // CI runs as root; the image runs as the lab user
        '--ServerApp.ip=127.0.0.1',
        `--ServerApp.port=${port}`,
        '--ServerApp.port_retries=0',
        `--ServerApp.root_dir=${env.dir}`,
        '--ServerApp.open_browser=False',
      ],
      { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    child.stdout!.setEncoding('utf8').on('data', (t: string) => (log += t));
    child.stderr!.setEncoding('utf8').on('data', (t: string) => (log += t));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const stop = async () => {
      child.kill('SIGTERM');
      await exited;
    };
    let up = false;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline && child.exitCode === null; ) {
      up = await fetch(`http://127.0.0.1:${port}/api`).then((r) => r.ok, () => false);
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (up) return { port, child, log: () => log, stop };
    await stop();
    if (attempt < 2 && /address already in use/i.test(log)) continue;
    throw new Error(`start-lab.sh did not start the server:\n${log}`);
  }
}

const status = (port: number, token?: string) =>
  fetch(`http://127.0.0.1:${port}/api/status`, { headers: token ? { Authorization: `token ${token}` } : {} }).then((r) => r.status);

function healthcheck(env: JupyterEnv, port: number): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(kDocker, 'healthcheck.mjs'), `http://127.0.0.1:${port}/api/status`], { env: env.env, encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('docker/start-lab.sh and docker/healthcheck.mjs, with a real jupyter server', () => {
  let env: JupyterEnv;
  beforeAll(() => {
    env = createJupyterEnv({ install: false });
  });
  afterAll(() => env?.cleanup());

  it('makes a random token and prints the URL with it; the server takes only that token; healthy until it stops', async () => {
    const lab = await startLab(env, {});
    let stopped = false;
    try {
      const m = /(http:\/\/127\.0\.0\.1:18888\/lab)\?token=([0-9a-f]{48})\b/.exec(lab.log());
      expect(m, lab.log()).not.toBeNull();
      const token = m![2]!;
      expect(await status(lab.port)).toBe(403);
      expect(await status(lab.port, 'not-the-token')).toBe(403);
      expect(await status(lab.port, token)).toBe(200);
      const tokenFile = join(env.env.JUPYTER_RUNTIME_DIR!, 'lab-token');
      expect(readFileSync(tokenFile, 'utf8').trim()).toBe(token);
      expect(statSync(tokenFile).mode & 0o077).toBe(0); // readable by the lab user only
      const healthy = healthcheck(env, lab.port);
      expect(healthy, healthy.out).toMatchObject({ code: 0, out: expect.stringMatching(/^healthy: started /) });
      await lab.stop();
      stopped = true;
      const gone = healthcheck(env, lab.port);
      expect(gone).toMatchObject({ code: 1, out: expect.stringMatching(/^unhealthy: http:\/\/127\.0\.0\.1:\d+\/api\/status: /) });
    } finally {
      if (!stopped) await lab.stop();
    }
  });

  it('takes the token from JUPYTER_TOKEN when it is set, and does not print it', async () => {
    const chosen = 'a-token-the-user-chose';
    const lab = await startLab(env, { JUPYTER_TOKEN: chosen });
    try {
      expect(lab.log()).toContain('http://127.0.0.1:18888/lab');
      expect(lab.log()).not.toContain(chosen);
      expect(await status(lab.port, chosen)).toBe(200);
      expect(await status(lab.port)).toBe(403);
      expect(healthcheck(env, lab.port).code).toBe(0);
    } finally {
      await lab.stop();
    }
  });

  const hasSshKeygen = spawnSync('sh', ['-c', 'command -v ssh-keygen'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!hasSshKeygen)("makes the lab's ssh key once and trusts it in ~/.ssh/authorized_keys (what the MPI hosts' sshd reads)", () => {
    const run = () => execFileSync('bash', [join(kDocker, 'start-lab.sh'), 'true'], { env: { ...env.env, JUPYTER_TOKEN: 'x' }, encoding: 'utf8' });
    run();
    const ssh = join(env.env.HOME!, '.ssh');
    const pub = readFileSync(join(ssh, 'id_ed25519.pub'), 'utf8').trim();
    expect(pub).toMatch(/^ssh-ed25519 /);
    expect(statSync(ssh).mode & 0o777).toBe(0o700);
    expect(statSync(join(ssh, 'authorized_keys')).mode & 0o777).toBe(0o600);
    run();
    expect(readFileSync(join(ssh, 'authorized_keys'), 'utf8').trim().split('\n')).toEqual([pub]);
  });
});

describe('docker/start-mpi-host.sh', () => {
  it("waits for the lab's key on the shared ~/.ssh, then says how to start both", () => {
    const home = mkdtempSync(join(tmp, 'home-'));
    const r = spawnSync('bash', [join(kDocker, 'start-mpi-host.sh')], { env: { ...process.env, HOME: home, SSHD_WAIT_S: '1' }, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`waiting for the lab's key in ${home}/.ssh/authorized_keys`);
    expect(r.stderr).toContain('docker compose -f docker/docker-compose.yml --profile mpi up');
  });
});

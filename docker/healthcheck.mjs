#!/usr/bin/env node
// The lab service's healthcheck (docker-compose.yml): healthy when the Jupyter server answers
// GET URL (its /api/status) with the token docker/start-lab.sh wrote, and the answer is the
// server's status. Prints why not and exits 1 otherwise.
//
//   node healthcheck.mjs URL      e.g. http://127.0.0.1:8888/api/status
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const url = process.argv[2];
if (!url) {
  console.error('usage: node healthcheck.mjs URL   (e.g. http://127.0.0.1:8888/api/status)');
  process.exit(2);
}
const runtime = process.env.JUPYTER_RUNTIME_DIR || join(homedir(), '.local', 'share', 'jupyter', 'runtime');
try {
  const token = readFileSync(join(runtime, 'lab-token'), 'utf8').trim();
  const response = await fetch(url, { headers: { Authorization: `token ${token}` }, signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const status = await response.json();
  if (typeof status.started !== 'string') throw new Error(`not a Jupyter server status: ${JSON.stringify(status)}`);
  console.log(`healthy: started ${status.started}, ${status.kernels} kernels, ${status.connections} connections`);
} catch (err) {
  console.error(`unhealthy: ${url}: ${err.cause?.message ?? err.message}`);
  process.exit(1);
}

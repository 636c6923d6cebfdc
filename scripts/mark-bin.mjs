#!/usr/bin/env node
/**
 * After the TypeScript build: makes package.json's bin entries executable. tsc writes them
 * without the executable bit, and `npx tslab-parallel` in this checkout runs dist/src/cli.js
 * directly ("Permission denied" otherwise; npm only sets the bit when it installs the package).
 */
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { bin = {} } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const file of Object.values(typeof bin === 'string' ? { bin } : bin)) {
  const path = join(root, file);
  if (existsSync(path)) chmodSync(path, 0o755);
}

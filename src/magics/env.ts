/** %env: show or set environment variables of the kernel (inherited by commands, pools and ranks). */
import { UsageError, type MagicSpec } from './types.js';

export const envLine: MagicSpec = {
  name: 'env',
  kind: 'line',
  description: 'Show the environment, one variable, or set a variable (%env NAME=value). Child processes started afterwards inherit it.',
  examples: ['%env', '%env OMP_NUM_THREADS', '%env OMP_NUM_THREADS=4'],
  args: [{ kind: 'rest', name: 'assignment', optional: true, help: 'NAME, NAME=value or NAME value.' }],
  handler: (ctx) => {
    const text = String(ctx.args.assignment ?? '').trim();
    if (!text) {
      const env = Object.fromEntries(Object.entries(process.env).sort(([a], [b]) => a.localeCompare(b)));
      return env;
    }
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\s*=\s*|\s+)?([\s\S]*)$/.exec(text);
    if (!m) throw new UsageError(`%env: '${text.split(/[=\s]/)[0]}' is not a variable name; use %env NAME=value`);
    const [, name, value] = m;
    if (!/[=\s]/.test(text)) {
      if (!(name in process.env)) throw new UsageError(`%env: ${name} is not set; set it with %env ${name}=value`);
      return process.env[name];
    }
    process.env[name] = value;
    ctx.stdout(`env: ${name}=${value}\n`);
    return undefined;
  },
};

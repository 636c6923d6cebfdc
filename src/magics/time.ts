/**
 * %time / %%time: run once and report wall time and the process's CPU time (user, system),
 * as IPython does. CPU time counts every thread of the kernel process, so parallel code shows
 * more CPU than wall time. `%time expr` returns the value of expr.
 */
import { formatSeconds } from './format-time.js';
import type { MagicContext, MagicSpec } from './types.js';

async function timed(ctx: MagicContext, source: string, lineOffset: number): Promise<unknown> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let value: unknown;
  try {
    value = await ctx.execute(source, { lineOffset });
  } finally {
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const user = cpu.user / 1e6;
    const sys = cpu.system / 1e6;
    ctx.stdout(`CPU times: user ${formatSeconds(user)}, sys: ${formatSeconds(sys)}, total: ${formatSeconds(user + sys)}\nWall time: ${formatSeconds(wall)}\n`);
  }
  return value;
}

export const timeLine: MagicSpec = {
  name: 'time',
  kind: 'line',
  description: 'Time the execution of a statement once (wall time and CPU time). The value of an expression is returned, as in a cell.',
  examples: ['%time integrate(0, 1, 1e-7)'],
  args: [{ kind: 'rest', name: 'statement', help: 'a statement to time.' }],
  handler: (ctx) => timed(ctx, String(ctx.args.statement), ctx.bodyLine - 1),
};

export const timeCell: MagicSpec = {
  name: 'time',
  kind: 'cell',
  description: 'Time the execution of the whole cell once (wall time and CPU time). Its declarations are kept, as in a normal cell.',
  examples: ['%%time\nconst total = serialSum(1e8);'],
  args: [],
  handler: (ctx) => timed(ctx, ctx.body, ctx.bodyLine - 1),
};

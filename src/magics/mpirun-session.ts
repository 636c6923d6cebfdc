/**
 * The %mpirun session as %%mpirun uses it: the notebook's one session (kernel-lifetime state),
 * the declarations its cells made (so later cells are checked against them), and a cell's trip
 * to the ranks — compile in the session's scope, ship, push --in / --scatter values, run,
 * bring --out / --gather values back.
 */
import { prefixLines, type RankOutputCallback } from '../comm/index.js';
import { gatherParts, isSplittable, RankSession, scatterChunks, SessionError, type SessionOptions } from '../comm/session/index.js';
import { ship } from '../ship/index.js';
import { kTraceName, showRankTimeline } from './mpirun-timeline.js';
import { UsageError, type MagicContext, type ScopeDeclarations } from './types.js';

/** What every session rank starts with. */
export const kSessionScope: ScopeDeclarations = {
  names: ['comm', 'rank', 'size'],
  declarations: 'declare const comm: import("tslab-parallel").Communicator;\ndeclare const rank: number;\ndeclare const size: number;\n',
};

/** The shipped module's `exports`, which the rank turns into a view on its scope (session/scope.ts). */
const kScopeEntry = { code: '(function () { return module.exports; })', provided: [] };

export interface SessionSlot {
  session: RankSession | undefined;
  scope: ScopeDeclarations;
}

export function sessionSlot(ctx: MagicContext): SessionSlot {
  return ctx.state('session', () => {
    const slot: SessionSlot = { session: undefined, scope: kSessionScope };
    ctx.onShutdown(() => slot.session?.close('the kernel shut down'));
    return slot;
  });
}

/** Closes the open session (if any) and starts a new one. */
export async function startSession(slot: SessionSlot, options: SessionOptions): Promise<RankSession> {
  await slot.session?.close('replaced by a new session');
  slot.session = undefined;
  slot.scope = kSessionScope;
  slot.session = await RankSession.start(options);
  return slot.session;
}

export function describeSession(session: RankSession | undefined): string {
  if (!session) return 'no %mpirun session is open; start one with %mpirun --session -np 4 [--backend threads|processes|mpi]\n';
  const s = session.status();
  if (s.closed) return `the %mpirun session is closed: ${s.closed}\n`;
  const where = s.where.length ? ` (${[...new Set(s.where)].join(', ')})` : '';
  return `%mpirun session: ${s.np} ranks on ${s.backend}${where}, ${s.cells} cell${s.cells === 1 ? '' : 's'} run, ${s.busy ? 'busy' : 'idle'}\n`;
}

export interface CellData {
  readonly ins: readonly string[];
  readonly scatters: readonly string[];
  readonly gathers: readonly string[];
  readonly outs: readonly { readonly name: string; readonly all: boolean }[];
}

/** Runs the cell on the session's ranks; binds what comes back in the notebook. */
/** With `timeline`, the ranks trace the cell and its timeline is shown (and bound to `timeline.out`). */
export async function runSessionCell(ctx: MagicContext, slot: SessionSlot, session: RankSession, data: CellData, timeout: number, timeline?: { out?: string }): Promise<void> {
  const np = session.np;
  await session.idle();
  const restart = session.takeRestart();
  if (restart) {
    // The kernel had already reported that cell as interrupted: say now what it cost.
    ctx.stderr(`${restart.message}${lostNames(slot)}\n`);
    slot.scope = kSessionScope;
  }
  const inputs: Record<string, unknown>[] = Array.from({ length: np }, () => ({}));
  for (const name of data.ins) {
    const value = notebookValue(ctx, name, '--in');
    for (const input of inputs) input[name] = value;
  }
  for (const name of data.scatters) {
    const value = notebookValue(ctx, name, '--scatter');
    if (!isSplittable(value)) throw new UsageError(`%%mpirun: --scatter ${name}: ${name} is not an array or typed array; scatter an array, or send the whole value with --in ${name}`);
    scatterChunks(value, np).forEach((chunk, rank) => (inputs[rank]![name] = chunk));
  }
  const pushed = [...data.ins, ...data.scatters];
  const compiled = await ctx.compileScoped(ctx.body, {
    scope: { names: [...new Set([...slot.scope.names, ...pushed])], declarations: slot.scope.declarations },
    lineOffset: ctx.bodyLine - 1,
  });
  const wanted = [...new Set([...data.outs.map((o) => o.name), ...data.gathers])];
  for (const name of wanted) {
    if (!compiled.scope.names.includes(name)) {
      throw new UsageError(`%%mpirun: ${data.gathers.includes(name) ? '--gather' : '--out'} ${name}: no cell of the session declares ${name}; declare it at the top level of a session cell (const ${name} = ...)`);
    }
  }
  const shipment = ship({ rank: { code: compiled.code, origin: compiled.origin, provided: compiled.scope.names }, scope: kScopeEntry }, { definitions: ctx.definitions, cwd: ctx.cwd });
  // Kept even if the cell fails: what ran before the error exists on the ranks, as in the notebook.
  slot.scope = compiled.scope;
  const grouped = ctx.args['group-outputs'] === 'rank';
  const held: [number, 'stdout' | 'stderr', string][] = [];
  const onOutput: RankOutputCallback = grouped ? (rank, stream, text) => void held.push([rank, stream, text]) : (rank, stream, text) => ctx[stream](prefixLines(rank, text));
  let values: Record<string, unknown>[];
  try {
    values = await session.run({ shipment, inputs, outs: wanted, timeout, signal: ctx.signal, onOutput, traceAs: timeline ? kTraceName : undefined });
  } catch (err) {
    // An interrupted cell is already reported (KeyboardInterrupt): its next cell tells of the restart.
    if (err instanceof SessionError && err.restarted && !ctx.signal.aborted) {
      session.takeRestart();
      err.message += lostNames(slot);
      slot.scope = kSessionScope;
    }
    throw err;
  } finally {
    for (let rank = 0; rank < np; rank++) for (const [r, stream, text] of held) if (r === rank) ctx[stream](prefixLines(r, text));
  }
  if (timeline) showRankTimeline(ctx, values, timeline.out);
  for (const { name, all } of data.outs) {
    const value = all ? values.map((v) => v[name]) : values[0]![name];
    ctx.setVariable(name, value, all ? `${typeOf(values[0]![name])}[]` : typeOf(value));
  }
  for (const name of data.gathers) {
    const joined = gatherParts(values.map((v) => v[name]));
    if ('problem' in joined) throw new UsageError(`%%mpirun: --gather ${name}: ${joined.problem}; every rank must hold an array (or typed arrays of one kind)`);
    ctx.setVariable(name, joined.value, Array.isArray(joined.value) ? 'any[]' : typeOf(joined.value));
  }
}

function lostNames(slot: SessionSlot): string {
  const lost = slot.scope.names.filter((n) => !kSessionScope.names.includes(n));
  return lost.length ? `; what its cells defined is gone (${lost.join(', ')}): run those cells again` : '';
}

function notebookValue(ctx: MagicContext, name: string, option: string): unknown {
  const def = ctx.definitions.lookup(name);
  if (!def) throw new UsageError(`%%mpirun: ${option} ${name}: the notebook has no variable ${name}; define it in a cell first (const ${name} = ...)`);
  const value = def.value();
  try {
    structuredClone(value);
  } catch (err) {
    throw new UsageError(`%%mpirun: ${option} ${name}: ${name} cannot be sent to the ranks (${(err as Error).message}); send plain data (numbers, strings, arrays, objects, typed arrays), or create it in the session cell`);
  }
  return value;
}

/** The notebook type of a value brought back, for the type checker. */
export function typeOf(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'bigint') return typeof value;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return value.constructor.name;
  return 'any';
}

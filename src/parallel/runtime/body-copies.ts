/**
 * Loop bodies compiled for the arrays they run over. One compiled body serves every call, so
 * TurboFan cannot take a call's arrays for constants: each iteration reloads every array's
 * length and data pointer and checks its map (TurboFan does not hoist those loads out of a
 * loop). A copy of the body, evaluated afresh so that V8 compiles it for itself, reads its
 * arrays from a frozen array it closes over, and TurboFan folds them to constants: the lecture's
 * 1D diffusion step over 1e7 points takes 16 ms instead of 27 (one thread, measured).
 *
 * - A copy costs a compile, so a thread makes one only when the same objects come back to a body
 *   whose call with them took at least the policy's repayMs.
 * - Only a call's objects (arrays, functions) are its key and the copy's constants. Numbers and
 *   other primitives are read from each call's env, as the body reads them, so a time step that
 *   changes every call does not defeat the copy.
 * - Copies hang off WeakMaps keyed by those objects: a copy never keeps an array alive.
 * - Only self-contained bodies are copied (their shipment carries no notebook data or imports):
 *   evaluated once more, such a body does the same thing.
 */
import { loadShipmentCopy, mapShippedStack } from '../../ship/load.js';
import type { Shipment } from '../../ship/shipment.js';
import { kEnvParam, kRedParam, type ChunkFunction } from '../spec.js';
import { int } from './schedule.js';

export interface CopyPolicy {
  readonly enabled: boolean;
  /**
   * A call must take this long (ms) before its objects get a copy: making one takes 0.03–0.4 ms
   * and TurboFan then spends 1–2 ms on it on a background thread (measured).
   */
  readonly repayMs: number;
  /** Shares smaller than this (iterations) are not worth a look. */
  readonly minIterations: number;
  /**
   * Once a copy of a body has paid off: new objects get a copy at once when the body's last
   * call took this long (ms).
   */
  readonly firstSightMs: number;
  /** A copy pays off when its call takes less than this share of the compiled body's. */
  readonly paysOffRatio: number;
}

export const kDefaultPolicy: CopyPolicy = { enabled: true, repayMs: 1, minIterations: 1 << 14, firstSightMs: 5, paysOffRatio: 0.9 };

/**
 * TSLAB_PARALLEL_BODY_COPIES=0 turns copies off (to compare); =eager makes one for any body
 * whose objects come back, whatever its size (tests use it).
 */
export function policyFromEnv(value = process.env['TSLAB_PARALLEL_BODY_COPIES']): CopyPolicy {
  if (value === '0') return { ...kDefaultPolicy, enabled: false };
  if (value === 'eager') return { enabled: true, repayMs: 0, minIterations: 0, firstSightMs: Infinity, paysOffRatio: 0.9 };
  return kDefaultPolicy;
}

/** Env positions are tracked in a 31-bit mask; bodies capturing more are not copied. */
export const kMaxPositions = 31;
/** Copies per body and thread until one pays off; then the body runs as compiled (nothing to fold). */
const kMaxUnpaidCopies = 16;
/** First-sight copies made before asking whether they get called again (half must be). */
const kFirstSightTrials = 4;
/**
 * A copy's first call runs in this many pieces of at least kMinPiece iterations, so that its
 * optimised code is entered early (see warmingUp). The 1D diffusion's first step with a new copy
 * read 29–34 ms with 64 pieces, 27–28 with 4096 (17 once warm).
 */
const kWarmUpPieces = 4096;
const kMinPiece = 1024;
/** Empty calls before them (some 30 bytes of bytecode each), so that V8 allocates feedback first (see warmingUp). */
const kEmptyCalls = 100;
/** The body's own parameter, renamed in a copy: primitives are read from it. */
const kCallEnvParam = '__tspCallEnv';

interface Leaf {
  /** The last call with these objects that ran the compiled body (ms); undefined: none yet. */
  genericMs: number | undefined;
  copy: ChunkFunction | undefined;
  /** The copy has had its first call (see warmingUp). */
  warm: boolean;
  /** The copy was made at first sight and has not been called again yet. */
  onTrial: boolean;
}

interface Node {
  readonly next: WeakMap<object, Node>;
  /** By the mask of constant positions. */
  leaves: Map<number, Leaf> | undefined;
}

interface BodyState {
  readonly root: Node;
  copies: number;
  /** False once its shipment could not be copied (not self-contained, or not shipped at all). */
  copyable: boolean;
  /** A copy ran faster than the compiled body did with the same objects. */
  paysOff: boolean;
  /** The last call that ran the compiled body (ms). */
  lastGenericMs: number;
  /** Copies made at first sight, and how many of them were called again. */
  firstSight: number;
  firstSightReused: number;
}

export class BodyCopies {
  readonly #bodies = new Map<string | number, BodyState>();
  #policy: CopyPolicy | undefined;

  /** policy: default, the environment's (read at the first loop). */
  constructor(policy?: CopyPolicy) {
    this.#policy = policy;
  }

  /** A body's code changed (a worker's loop slot was given a new one): its copies go. */
  forget(key: string | number): void {
    this.#bodies.delete(key);
  }

  /**
   * Calls `run` with the body to use for this call: the copy made for env's objects, if any, or
   * a new copy when it should pay (see CopyPolicy), or the compiled body.
   * - `iterations`: this thread's share.
   * - `shipment`: the body's shipment, asked for only when a copy is about to be made (a body
   *   that cannot be shipped is never copied).
   * - `fresh`: a mask of env positions whose objects are new on every call (a worker's copies of
   *   values sent by message, per-thread slices of array reductions): read from each call, as
   *   primitives are, never constants.
   */
  run<T>(key: string | number, generic: ChunkFunction, env: readonly unknown[], iterations: number, shipment: () => Shipment | undefined, run: (body: ChunkFunction) => T, fresh = 0): T {
    const policy = (this.#policy ??= policyFromEnv());
    if (!policy.enabled || iterations < policy.minIterations || env.length > kMaxPositions) return run(generic);
    let state = this.#bodies.get(key);
    if (!state) {
      state = { root: { next: new WeakMap(), leaves: undefined }, copies: 0, copyable: true, paysOff: false, lastGenericMs: 0, firstSight: 0, firstSightReused: 0 };
      this.#bodies.set(key, state);
    }
    if (!state.copyable || (!state.paysOff && state.copies >= kMaxUnpaidCopies)) return run(generic);
    const constant = constantPositions(env, fresh);
    if (constant === 0) return run(generic); // nothing to fold
    const leaf = leafFor(state.root, env, constant);
    if (!leaf.copy && this.#shouldCopy(state, leaf)) {
      leaf.copy = this.#makeCopy(state, shipment, env, constant);
      if (leaf.copy && leaf.genericMs === undefined) {
        leaf.onTrial = true;
        state.firstSight++;
      }
    }
    const copy = leaf.copy;
    if (!copy) {
      const t0 = performance.now();
      const out = run(generic);
      leaf.genericMs = state.lastGenericMs = performance.now() - t0;
      return out;
    }
    if (!leaf.warm) {
      leaf.warm = true;
      return runCopy(warmingUp(copy), run);
    }
    if (leaf.onTrial) {
      leaf.onTrial = false;
      state.firstSightReused++;
    }
    if (state.paysOff || leaf.genericMs === undefined) return runCopy(copy, run);
    const t0 = performance.now();
    const out = runCopy(copy, run);
    if (performance.now() - t0 < policy.paysOffRatio * leaf.genericMs) state.paysOff = true;
    return out;
  }

  /**
   * Objects seen before in a call of at least repayMs; or, once a copy of this body has paid
   * off, new objects in a body whose calls take firstSightMs (the compile is then a few
   * percent), as long as most copies made at first sight get called again.
   */
  #shouldCopy(state: BodyState, leaf: Leaf): boolean {
    const policy = this.#policy!;
    if (leaf.genericMs !== undefined) return leaf.genericMs >= policy.repayMs;
    const reused = state.firstSight < kFirstSightTrials || 2 * state.firstSightReused >= state.firstSight;
    return state.paysOff && reused && state.lastGenericMs >= policy.firstSightMs;
  }

  #makeCopy(state: BodyState, shipment: () => Shipment | undefined, env: readonly unknown[], constant: number): ChunkFunction | undefined {
    let s: Shipment | undefined;
    try {
      s = shipment();
    } catch {
      s = undefined;
    }
    const code = s && copyCode(s, env.length, constant);
    if (!s || !code) {
      state.copyable = false;
      return undefined;
    }
    state.copies++;
    const constants = Object.freeze(env.map((v, k) => (constant & (1 << k) ? v : undefined)));
    return loadShipmentCopy(s, code, kEnvParam, constants)['body'] as ChunkFunction;
  }
}

function isObject(v: unknown): v is object {
  return (typeof v === 'object' && v !== null) || typeof v === 'function';
}

/** The positions a copy takes as constants: objects, less the fresh ones. */
function constantPositions(env: readonly unknown[], fresh: number): number {
  let mask = 0;
  for (let k = 0; k < env.length; k++) if (isObject(env[k])) mask |= 1 << k;
  return mask & ~fresh;
}

/** The leaf for the objects at the constant positions (created on first sight). */
function leafFor(root: Node, env: readonly unknown[], constant: number): Leaf {
  let node = root;
  for (let k = 0; k < env.length; k++) {
    if (!(constant & (1 << k))) continue;
    const v = env[k] as object;
    let next = node.next.get(v);
    if (!next) node.next.set(v, (next = { next: new WeakMap(), leaves: undefined }));
    node = next;
  }
  node.leaves ??= new Map();
  let leaf = node.leaves.get(constant);
  if (!leaf) node.leaves.set(constant, (leaf = { genericMs: undefined, copy: undefined, warm: false, onTrial: false }));
  return leaf;
}

/**
 * The body's module with the body's env parameter renamed, so that `__tspEnv` names the copy's
 * constants (the positions in `constant`), and with the other positions read from the renamed
 * parameter. Undefined when the shipment is not self-contained or its code is not shaped as the
 * compiler writes it.
 */
export function copyCode(s: Shipment, positions: number, constant: number): string | undefined {
  if (Object.keys(s.data).length > 0 || s.imports.length > 0 || s.entries.length !== 1 || s.entries[0] !== 'body') return undefined;
  const params = `${kEnvParam}, ${kRedParam}`;
  const at = s.code.indexOf(params);
  if (at < 0 || s.code.includes(params, at + 1) || s.code.includes(kCallEnvParam)) return undefined;
  let code = s.code.slice(0, at) + `${kCallEnvParam}, ${kRedParam}` + s.code.slice(at + params.length);
  for (let k = 0; k < positions; k++) {
    if (!(constant & (1 << k))) code = code.replaceAll(`${kEnvParam}[${k}]`, `${kCallEnvParam}[${k}]`);
  }
  return code;
}

/** An error from a copy names its frames as shipped code: map them back to the cell. */
function runCopy<T>(copy: ChunkFunction, run: (body: ChunkFunction) => T): T {
  try {
    return run(copy);
  } catch (err) {
    if (err instanceof Error && typeof err.stack === 'string') err.stack = mapShippedStack(err.stack);
    throw err;
  }
}

/**
 * A copy's first call, in pieces. V8 first runs a new function's loop in the interpreter and
 * then in on-stack-replaced code, which does not fold the constants; the copy's own optimised
 * code is only entered by a later call. Pieces give it those calls within the first share
 * (a body may be called for any sub-range: that is how dynamic schedules call it).
 *
 * Before them, empty calls (no iteration; reductions written back unchanged): V8 gives a
 * function its feedback vector only once it has run about 1 KB of bytecode
 * (--interrupt-budget-for-feedback-allocation), so within the first piece, after the loads
 * before the loop. The optimised code compiled then knew nothing of those loads, deoptimised on
 * its first call and left the copy in its on-stack-replaced code: one diffusion step in two ran
 * at the compiled body's speed on two threads (--trace-deopt: "Insufficient type feedback").
 */
function warmingUp(copy: ChunkFunction): ChunkFunction {
  let first = true;
  return (lo, hi, start, step, env, red, shared, ctx) => {
    if (!first) return copy(lo, hi, start, step, env, red, shared, ctx);
    first = false;
    for (let c = 0; c < kEmptyCalls; c++) copy(lo, lo, start, step, env, red, shared, ctx);
    const piece = Math.max(kMinPiece, Math.ceil((hi - lo) / kWarmUpPieces));
    for (let p = lo; p < hi; p += piece) copy(p, int(Math.min(hi, p + piece)), start, step, env, red, shared, ctx);
  };
}

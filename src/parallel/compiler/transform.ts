/**
 * Rewrites each prange loop into a call of the runtime, on the loop's own lines:
 *
 *   for (const i of prange(1, n - 1)) {          { type __tspT0 = typeof x0; …; const __tspR = RT.run(SPEC, [x0, dx], [tot], [], 1, n - 1, 1, function (…) { const x0 = …; let tot = …; const __tspEnd = …; for (let __tspK = __tspA + __tspLo; __tspK < __tspEnd; __tspK++) { try { const i = __tspK;
 *     tot = tot + f(i);                     →        tot = tot + f(i);
 *   }                                              } catch (__tspE) { __tspCtx.at = __tspK; throw __tspE; } } __tspRed[0] = tot; }); tot = __tspR[0]; }
 *
 * The body function is a chunk loop of its own, so V8 optimises the whole chunk as one hot
 * function; captured values are read into locals once per chunk, never per iteration.
 */
import { createHash } from 'node:crypto';
import ts from 'typescript';
import { kEnvParam, kRedParam, type LoopSpec, type Schedule } from '../spec.js';
import type { LoopPlan } from './analyze.js';
import type { LineKeepingEditor } from './edits.js';
import type { NestedPrangeLoop, PrangeLoop } from './loops.js';

/** Bumped when the generated code changes shape, so cached bodies from older compiles are not reused. */
const kCodegenVersion = 4;

const kChunkParams = `__tspLo: number, __tspHi: number, __tspA: number, __tspSt: number, ${kEnvParam}: any[], ${kRedParam}: any[], __tspSh: any, __tspCtx: any`;

export interface TransformOptions {
  /** Expression for the runtime in compiled code. */
  readonly runtime: string;
  readonly threads?: number;
  readonly schedule?: Schedule;
  /** A top-level name of the cell (see LoopSpec.anchor). */
  readonly anchor?: string;
}

export function rewriteLoop(
  file: ts.SourceFile,
  editor: LineKeepingEditor,
  plan: LoopPlan,
  options: TransformOptions,
): LoopSpec {
  const { statement, call, labeled } = plan.loop;
  const body = statement.statement;
  const args = call.arguments;
  const captured = plan.captured;
  const spec = makeSpec(file, plan, options);
  // prange(n) and prange(a, b) count by one: the loop then runs over i itself, like a serial loop.
  const unitStep = args.length < 3;

  const aliases: string[] = [];
  const prologue: string[] = [];
  captured.forEach((c, k) => {
    aliases.push(`type __tspT${k} = typeof ${c.name};`);
    prologue.push(`${c.name} = ${kEnvParam}[${k}] as __tspT${k}`);
  });
  const redDecls: string[] = [];
  const redStores: string[] = [];
  plan.reductions.forEach((r, k) => {
    const alias = `__tspT${captured.length + k}`;
    aliases.push(`type ${alias} = typeof ${r.name};`);
    redDecls.push(`let ${r.name} = ${kRedParam}[${k}] as ${alias};`);
    redStores.push(`${kRedParam}[${k}] = ${r.name};`);
  });
  const provided = [...plan.provided].map((name) => `${name} = __tspCtx.${name} as ${providedType(name)}`);

  const header =
    `{ ${aliases.join(' ')} const __tspR = ${options.runtime}.run(${JSON.stringify(spec)}, ` +
    `[${captured.map((c) => c.name).join(', ')}], [${plan.reductions.map((r) => r.name).join(', ')}], ` +
    `[${plan.shared.join(', ')}], ${args.length === 1 ? '0, ' : ''}`;
  const label = labeled ? `${labeled.label.text}: ` : '';
  const chunkOpen =
    `function (${kChunkParams}): void { ` +
    (prologue.length ? `const ${prologue.join(', ')}; ` : '') +
    (provided.length ? `const ${provided.join(', ')}; ` : '') +
    redDecls.map((d) => d + ' ').join('') +
    loopHead(label, unitStep);
  const argsTail = args.hasTrailingComma ? '' : ', ';
  const tail = `${args.length < 3 ? `${argsTail}1, ` : argsTail}${chunkOpen}`;
  const indexDecl = `${plan.indexKeyword} ${plan.indexName} = ${unitStep ? '__tspK' : '__tspA + __tspK * __tspSt'};`;

  const writeBack: string[] = [];
  // `as typeof x` keeps the variable's narrowed type after the write-back (an `any` would widen it).
  const assign = (name: string, index: number) => `${name} = __tspR[${index}] as typeof ${name};`;
  plan.reductions.forEach((r, k) => writeBack.push(assign(r.name, k)));
  plan.shared.forEach((name, k) => writeBack.push(assign(name, plan.reductions.length + k)));
  // The try sits inside the loop, around one iteration: a handler outside the loop that reads
  // the counter keeps it out of registers (about 8% on a stencil); one per iteration costs nothing.
  const close =
    ` catch (__tspE) { __tspCtx.at = ${unitStep ? '__tspK' : '__tspA + __tspK * __tspSt'}; throw __tspE; } } ${redStores.join(' ')}${redStores.length ? ' ' : ''}` +
    `}); ${writeBack.join(' ')}${writeBack.length ? ' ' : ''}}`;

  const start = (labeled ?? statement).getStart(file);
  editor.replace(start, args.pos, header);
  if (ts.isBlock(body)) {
    editor.replace(args.end, body.getStart(file), `${tail}{ try `);
    editor.insert(body.getStart(file) + 1, ` ${indexDecl}`);
    editor.insert(body.end, close);
  } else {
    editor.replace(args.end, body.getStart(file), `${tail}{ try { ${indexDecl} `);
    editor.insert(body.end, ` }${close}`);
  }
  for (const { id, slot } of plan.sharedRefs) {
    const p = id.parent;
    const shorthand = ts.isShorthandPropertyAssignment(p) && p.name === id;
    editor.replace(id.getStart(file), id.end, shorthand ? `${id.text}: __tspSh[${slot}]` : `__tspSh[${slot}]`);
  }
  return spec;
}

/** A prange inside a prange body: a serial counting loop, on the same lines. */
export function rewriteNestedLoop(file: ts.SourceFile, editor: LineKeepingEditor, loop: NestedPrangeLoop, serial: number): void {
  const { statement, call } = loop;
  const body = statement.statement;
  const init = statement.initializer;
  const decl = ts.isVariableDeclarationList(init) ? init.declarations[0] : undefined;
  if (!decl || !ts.isIdentifier(decl.name)) return;
  const keyword = init.flags & ts.NodeFlags.Const ? 'const' : 'let';
  const [a, n, s, k] = ['A', 'N', 'S', 'K'].map((x) => `__tsp${x}${serial}`);
  const indexDecl = `${keyword} ${decl.name.text}: number = ${a} + ${k} * ${s};`;
  editor.replace(statement.getStart(file), call.arguments.pos, `for (let [${a}, ${n}, ${s}] = __tspCtx.range(`);
  const tail = `), ${k} = 0; ${k} < ${n}; ${k}++) `;
  if (ts.isBlock(body)) {
    editor.replace(call.arguments.end, body.getStart(file), tail);
    editor.insert(body.getStart(file) + 1, ` ${indexDecl}`);
  } else {
    editor.replace(call.arguments.end, body.getStart(file), `${tail}{ ${indexDecl} `);
    editor.insert(body.end, ' }');
  }
}

function makeSpec(file: ts.SourceFile, plan: LoopPlan, options: TransformOptions): LoopSpec {
  const indexesOf = (pred: (c: LoopPlan['captured'][number]) => boolean) =>
    plan.captured.flatMap((c, k) => (pred(c) ? [k] : []));
  const arrayReductions = plan.captured.flatMap((c, k) => (c.arrayReduction ? [{ k, op: c.arrayReduction }] : []));
  const spec = {
    id: '',
    line: plan.line,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.schedule === undefined ? {} : { schedule: options.schedule.kind, chunk: options.schedule.chunk }),
    names: plan.captured.map((c) => c.name),
    writes: indexesOf((c) => c.writes),
    escapes: indexesOf((c) => c.escapes),
    reductions: plan.reductions.map((r) => ({ name: r.name, op: r.op })),
    ...(arrayReductions.length > 0 ? { arrayReductions } : {}),
    shared: [...plan.shared],
    ...(options.anchor === undefined ? {} : { anchor: options.anchor }),
  };
  const source = (plan.loop.labeled ?? plan.loop.statement).getText(file);
  spec.id = 'L' + createHash('sha1').update(`${kCodegenVersion}\n${JSON.stringify(spec)}\n${source}`).digest('hex').slice(0, 16);
  return spec;
}

/** The chunk loop: over the iteration number k, or directly over i when the step is 1. */
function loopHead(label: string, unitStep: boolean): string {
  return unitStep
    ? `const __tspEnd = __tspA + __tspHi; ${label}for (let __tspK = __tspA + __tspLo; __tspK < __tspEnd; __tspK++) `
    : `${label}for (let __tspK = __tspLo; __tspK < __tspHi; __tspK++) `;
}

function providedType(name: string): string {
  switch (name) {
    case 'threadId':
    case 'numThreads':
      return '() => number';
    default:
      return 'any';
  }
}

export type { PrangeLoop };

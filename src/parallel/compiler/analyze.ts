/**
 * Decides, for one prange loop, what each name in its body is: private to the iteration, a
 * read-only copy, a reduction, a shared scalar the threads race on, or an array in shared
 * memory; and which writes race. This is the Numba/OpenMP data-sharing analysis, done on the
 * TypeScript AST.
 */
import ts from 'typescript';
import { bindingElements } from '../../util/scope.js';
import { hasGlobal } from '../../util/global-object.js';
import type { ReductionOp } from '../spec.js';
import { Messages, type CompileMessage } from './messages.js';
import {
  climbTransparent,
  contains,
  isAssignmentOperator,
  isAssignmentTarget,
  isIncrementOrDecrement,
  isValueReference,
  skipTransparent,
  type CellProgram,
} from './program.js';
import type { PrangeLoop } from './loops.js';

/** Names a body may use without declaring them: the runtime provides them on every thread. */
export const kProvidedNames = ['threadId', 'numThreads', 'shared', 'prange'] as const;
export type ProvidedName = (typeof kProvidedNames)[number];

export interface CapturedName {
  readonly name: string;
  /** Written through an element or a mutating method. */
  readonly writes: boolean;
  /** Handed to something that may write it (a call argument, an alias). */
  readonly escapes: boolean;
  /** Indexed with [] somewhere in the body. */
  readonly indexed: boolean;
  /** Declared a reduction by `prange(…).reduction(op, name)`: threads update private copies. */
  readonly arrayReduction?: ReductionOp;
}

export interface LoopPlan {
  readonly loop: PrangeLoop;
  readonly line: number;
  readonly indexName: string;
  readonly indexKeyword: 'const' | 'let' | 'var';
  readonly captured: readonly CapturedName[];
  readonly reductions: readonly { readonly name: string; readonly op: ReductionOp }[];
  readonly shared: readonly string[];
  /** Occurrences of shared names, rewritten to their slot. */
  readonly sharedRefs: readonly { readonly id: ts.Identifier; readonly slot: number }[];
  readonly provided: ReadonlySet<ProvidedName>;
}

export interface AnalyzeOptions {
  /** Whether a name the cell does not declare belongs to the notebook (an earlier cell). */
  readonly isNotebookName?: (name: string) => boolean;
}

type Role =
  | { readonly kind: 'read'; readonly escapes: boolean; readonly indexed: boolean }
  | { readonly kind: 'reduction'; readonly op: ReductionOp }
  | { readonly kind: 'write' }
  | { readonly kind: 'element-write'; readonly index: ts.Expression; readonly compound: boolean }
  | { readonly kind: 'property-write'; readonly property: string }
  | { readonly kind: 'mutating-call' };

interface Occurrence {
  readonly id: ts.Identifier;
  readonly role: Role;
}

interface OuterName {
  readonly name: string;
  readonly decl: ts.Declaration | undefined;
  readonly occurrences: Occurrence[];
}

type Resolution =
  | { readonly kind: 'index' }
  | { readonly kind: 'private'; readonly decl: ts.Declaration }
  | { readonly kind: 'outer'; readonly decl: ts.Declaration | undefined }
  | { readonly kind: 'provided'; readonly name: ProvidedName }
  | { readonly kind: 'global' };

const kMutatingMethods = new Set(['push', 'pop', 'shift', 'unshift', 'splice', 'fill', 'sort', 'reverse', 'copyWithin', 'set']);
const kSumFamily = new Set([ts.SyntaxKind.PlusToken, ts.SyntaxKind.MinusToken]);
const kProductFamily = new Set([ts.SyntaxKind.AsteriskToken, ts.SyntaxKind.SlashToken]);

export function analyzeLoop(
  program: CellProgram,
  loop: PrangeLoop,
  options: AnalyzeOptions,
  messages: CompileMessage[],
): LoopPlan {
  const { statement } = loop;
  const body = statement.statement;
  const line = program.lineOf(loop.labeled ?? statement);
  const at = (node: ts.Node) => ({ line: program.lineOf(node), column: program.columnOf(node) });

  const init = statement.initializer;
  const indexDecl = ts.isVariableDeclarationList(init) ? init.declarations[0] : undefined;
  const indexName = indexDecl && ts.isIdentifier(indexDecl.name) ? indexDecl.name.text : '';
  const indexKeyword = !ts.isVariableDeclarationList(init)
    ? 'let'
    : init.flags & ts.NodeFlags.Const
      ? 'const'
      : init.flags & ts.NodeFlags.Let
        ? 'let'
        : 'var';

  const resolve = (id: ts.Identifier): Resolution => {
    const decl = program.declarationOf(id);
    if (decl) {
      if (decl === indexDecl) return { kind: 'index' };
      if (contains(body, decl)) return { kind: 'private', decl };
      return { kind: 'outer', decl };
    }
    const name = id.text;
    if ((kProvidedNames as readonly string[]).includes(name)) return { kind: 'provided', name: name as ProvidedName };
    if (options.isNotebookName?.(name)) return { kind: 'outer', decl: undefined };
    if (name === 'require' || hasGlobal(name)) return { kind: 'global' };
    return { kind: 'outer', decl: undefined };
  };

  // Every value reference in the body, resolved once.
  const references: { id: ts.Identifier; resolution: Resolution }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isTypeNode(node) && !ts.isExpressionWithTypeArguments(node)) return;
    if (ts.isIdentifier(node)) {
      if (isValueReference(node)) references.push({ id: node, resolution: resolve(node) });
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(body);

  const isOuter = (expr: ts.Expression, name: string): boolean => {
    const e = skipTransparent(expr);
    return ts.isIdentifier(e) && e.text === name && resolve(e).kind === 'outer';
  };
  const mentions = (expr: ts.Node, name: string): boolean => {
    let found = false;
    const walk = (n: ts.Node): void => {
      if (found) return;
      if (ts.isIdentifier(n)) {
        if (n.text === name && isValueReference(n) && resolve(n).kind === 'outer') found = true;
        return;
      }
      ts.forEachChild(n, walk);
    };
    walk(expr);
    return found;
  };

  // Pass 1: reduction statements, and the self-reads inside them (`tot` in `tot = tot + e`).
  const consumed = new Set<ts.Identifier>();
  const reductionOf = new Map<ts.Identifier, ReductionOp>();
  for (const { id, resolution } of references) {
    if (resolution.kind !== 'outer') continue;
    const found = matchReduction(id, isOuter, mentions);
    if (found) {
      reductionOf.set(id, found.op);
      if (found.selfRead) consumed.add(found.selfRead);
    }
  }

  // Pass 2: the role of every outer occurrence.
  const outers = new Map<string, OuterName>();
  const provided = new Set<ProvidedName>();
  for (const { id, resolution } of references) {
    if (resolution.kind === 'provided') provided.add(resolution.name);
    if (resolution.kind === 'index' && isAssignmentTarget(id)) messages.push(Messages.indexAssigned(at(id), indexName));
    if (resolution.kind !== 'outer' || consumed.has(id)) continue;
    let outer = outers.get(id.text);
    if (!outer) outers.set(id.text, (outer = { name: id.text, decl: resolution.decl, occurrences: [] }));
    const op = reductionOf.get(id);
    outer.occurrences.push({ id, role: op ? { kind: 'reduction', op } : roleOf(id) });
  }
  // Self-reads belong to their variable too (they are rewritten with it when it is shared).
  for (const id of consumed) outers.get(id.text)?.occurrences.push({ id, role: { kind: 'read', escapes: false, indexed: false } });

  const dependsOnLoop = loopDependence(body, indexDecl, references, resolve);

  // Arrays the loop's reduction clauses name (checkHeader reported malformed clauses).
  const clauseOps = new Map<string, { op: ReductionOp; id: ts.Identifier }>();
  for (const clause of loop.clauses) {
    const [op, ...arrays] = clause.call.arguments;
    if (!op || !ts.isStringLiteral(op)) continue;
    for (const a of arrays) if (ts.isIdentifier(a)) clauseOps.set(a.text, { op: op.text as ReductionOp, id: a });
  }

  const captured: CapturedName[] = [];
  const reductions: { name: string; op: ReductionOp }[] = [];
  const shared: string[] = [];
  const sharedRefs: { id: ts.Identifier; slot: number }[] = [];

  for (const outer of outers.values()) {
    const occ = outer.occurrences.filter((o) => !consumed.has(o.id));
    const writes = occ.filter((o) => o.role.kind === 'write');
    const reductionOps = new Set(occ.flatMap((o) => (o.role.kind === 'reduction' ? [o.role.op] : [])));
    const others = occ.filter((o) => o.role.kind !== 'reduction' && o.role.kind !== 'write');
    const plainArray = outer.decl !== undefined && isPlainArrayDeclaration(outer.decl);

    const clause = clauseOps.get(outer.name);
    if (clause && (writes.length > 0 || reductionOps.size > 0)) {
      messages.push(
        Messages.reductionClause(at(clause.id), `'${outer.name}' is assigned as a whole in the loop, so it is not an array the clause can reduce (a number updated with += is a reduction without a clause)`),
      );
      continue;
    }

    let isShared = false;
    if (writes.length > 0) {
      isShared = true;
      messages.push(Messages.sharedScalarWrite(at(writes[0]!.id), outer.name, line));
    } else if (reductionOps.size > 1) {
      isShared = true;
      const first = occ.find((o) => o.role.kind === 'reduction')!;
      messages.push(Messages.mixedReduction(at(first.id), outer.name, line));
    } else if (reductionOps.size === 1 && others.length > 0) {
      isShared = true;
      const update = occ.find((o) => o.role.kind === 'reduction')!;
      messages.push(Messages.reductionAlsoRead(at(others[0]!.id), outer.name, program.lineOf(update.id), line));
    }

    if (isShared) {
      const slot = shared.length;
      shared.push(outer.name);
      for (const o of outer.occurrences) sharedRefs.push({ id: o.id, slot });
      continue;
    }
    if (reductionOps.size === 1) {
      reductions.push({ name: outer.name, op: [...reductionOps][0]! });
      continue;
    }

    let reportedPlain = false;
    for (const o of occ) {
      if (o.role.kind === 'property-write') {
        messages.push(Messages.propertyWrite(at(o.id), outer.name, o.role.property));
      } else if ((o.role.kind === 'element-write' || o.role.kind === 'mutating-call') && plainArray) {
        if (!reportedPlain) messages.push(Messages.plainArrayWrite(at(o.id), outer.name, declarationLine(program, outer.decl)));
        reportedPlain = true;
      } else if (o.role.kind === 'element-write' && !clause && !dependsOnLoop(o.role.index)) {
        messages.push(Messages.invariantIndexWrite(at(o.id), outer.name, o.role.index.getText(), indexName));
      } else if (o.role.kind === 'element-write' && o.role.compound && !clause && isScatterIndex(o.role.index, resolve)) {
        messages.push(Messages.scatterUpdate(at(o.id), outer.name, o.role.index.getText()));
      }
    }
    captured.push({
      name: outer.name,
      writes: occ.some((o) => o.role.kind === 'element-write' || o.role.kind === 'mutating-call'),
      escapes: occ.some((o) => o.role.kind === 'read' && o.role.escapes),
      indexed: occ.some((o) => o.role.kind === 'element-write' || (o.role.kind === 'read' && o.role.indexed)),
      ...(clause ? { arrayReduction: clause.op } : {}),
    });
  }
  for (const [name, { id }] of clauseOps) {
    if (!outers.has(name)) messages.push(Messages.reductionClause(at(id), `the loop body does not use '${name}', an outer variable, so there is nothing to reduce`));
  }

  return { loop, line, indexName, indexKeyword, captured, reductions, shared, sharedRefs, provided };
}

/** `tot += e`, `tot = tot + e`, `tot = Math.max(tot, e)`, `tot++` as a statement, with e free of tot. */
function matchReduction(
  id: ts.Identifier,
  isOuter: (e: ts.Expression, name: string) => boolean,
  mentions: (e: ts.Node, name: string) => boolean,
): { op: ReductionOp; selfRead?: ts.Identifier } | undefined {
  const name = id.text;
  const n = climbTransparent(id);
  const p = n.parent;
  if (!p || !isStatement(p)) return undefined;
  if ((ts.isPrefixUnaryExpression(p) || ts.isPostfixUnaryExpression(p)) && isIncrementOrDecrement(p.operator)) {
    return { op: '+' };
  }
  if (!ts.isBinaryExpression(p) || p.left !== n) return undefined;
  const kind = p.operatorToken.kind;
  if (kind === ts.SyntaxKind.PlusEqualsToken || kind === ts.SyntaxKind.MinusEqualsToken) {
    return mentions(p.right, name) ? undefined : { op: '+' };
  }
  if (kind === ts.SyntaxKind.AsteriskEqualsToken || kind === ts.SyntaxKind.SlashEqualsToken) {
    return mentions(p.right, name) ? undefined : { op: '*' };
  }
  if (kind !== ts.SyntaxKind.EqualsToken) return undefined;

  const rhs = skipTransparent(p.right);
  if (ts.isCallExpression(rhs)) {
    const callee = skipTransparent(rhs.expression);
    if (
      ts.isPropertyAccessExpression(callee) &&
      ts.isIdentifier(callee.expression) &&
      callee.expression.text === 'Math' &&
      (callee.name.text === 'max' || callee.name.text === 'min')
    ) {
      const self = rhs.arguments.filter((a) => isOuter(a, name));
      const rest = rhs.arguments.filter((a) => !isOuter(a, name));
      if (self.length === 1 && rest.length >= 1 && !rest.some((a) => mentions(a, name))) {
        return { op: callee.name.text as 'max' | 'min', selfRead: skipTransparent(self[0]!) as ts.Identifier };
      }
    }
    return undefined;
  }
  if (!ts.isBinaryExpression(rhs)) return undefined;
  const family = kSumFamily.has(rhs.operatorToken.kind) ? kSumFamily : kProductFamily.has(rhs.operatorToken.kind) ? kProductFamily : undefined;
  if (!family) return undefined;
  const op: ReductionOp = family === kSumFamily ? '+' : '*';
  // tot = tot + a - b …: walk down the left spine of same-family operators to the first operand.
  let leftmost: ts.Expression = rhs;
  const operands: ts.Expression[] = [];
  while (ts.isBinaryExpression(leftmost) && family.has(leftmost.operatorToken.kind)) {
    operands.push(leftmost.right);
    leftmost = skipTransparent(leftmost.left);
  }
  if (isOuter(leftmost, name) && !operands.some((o) => mentions(o, name))) {
    return { op, selfRead: leftmost as ts.Identifier };
  }
  // tot = e + tot (commutative operators only).
  const commutative = rhs.operatorToken.kind === ts.SyntaxKind.PlusToken || rhs.operatorToken.kind === ts.SyntaxKind.AsteriskToken;
  if (commutative && isOuter(rhs.right, name) && !mentions(rhs.left, name)) {
    return { op, selfRead: skipTransparent(rhs.right) as ts.Identifier };
  }
  return undefined;
}

function isStatement(expr: ts.Node): boolean {
  const n = climbTransparent(expr);
  return n.parent !== undefined && ts.isExpressionStatement(n.parent);
}

function roleOf(id: ts.Identifier): Role {
  const n = climbTransparent(id);
  const p = n.parent!;
  if (isAssignmentTarget(id)) return { kind: 'write' };
  if (ts.isElementAccessExpression(p) && p.expression === n) {
    let access: ts.Node = p;
    while (ts.isElementAccessExpression(climbTransparent(access).parent) && (climbTransparent(access).parent as ts.ElementAccessExpression).expression === climbTransparent(access)) {
      access = climbTransparent(access).parent;
    }
    if (isAssignmentTarget(access)) return { kind: 'element-write', index: p.argumentExpression, compound: isCompoundUpdate(access) };
    return { kind: 'read', escapes: false, indexed: true };
  }
  if (ts.isPropertyAccessExpression(p) && p.expression === n) {
    if (isAssignmentTarget(p)) return { kind: 'property-write', property: p.name.text };
    const call = climbTransparent(p).parent;
    if (call && ts.isCallExpression(call) && climbTransparent(p) === call.expression) {
      return kMutatingMethods.has(p.name.text) ? { kind: 'mutating-call' } : { kind: 'read', escapes: false, indexed: false };
    }
    // xs.data[i] = … writes through a property: the object may carry arrays that get written.
    return { kind: 'read', escapes: p.name.text !== 'length', indexed: false };
  }
  if (ts.isCallExpression(p) && p.expression === n) return { kind: 'read', escapes: false, indexed: false };
  const pureUse =
    (ts.isBinaryExpression(p) && !isAssignmentOperator(p.operatorToken.kind)) ||
    ts.isPrefixUnaryExpression(p) ||
    ts.isTypeOfExpression(p) ||
    (ts.isConditionalExpression(p) && p.condition === n) ||
    (ts.isIfStatement(p) && p.expression === n) ||
    ts.isTemplateSpan(p);
  return { kind: 'read', escapes: !pureUse, indexed: false };
}

/**
 * Whether an index expression changes with the iteration: it mentions the loop variable, a
 * private variable computed from it, or threadId().
 */
function loopDependence(
  body: ts.Statement,
  indexDecl: ts.Declaration | undefined,
  references: readonly { id: ts.Identifier; resolution: Resolution }[],
  resolve: (id: ts.Identifier) => Resolution,
): (expr: ts.Expression) => boolean {
  const dependent = new Set<ts.Declaration>(indexDecl ? [indexDecl] : []);
  const depends = (expr: ts.Node): boolean => {
    let found = false;
    const walk = (n: ts.Node): void => {
      if (found) return;
      if (ts.isIdentifier(n)) {
        if (!isValueReference(n)) return;
        const r = resolve(n);
        if (r.kind === 'index' || (r.kind === 'private' && dependent.has(r.decl))) found = true;
        if (r.kind === 'provided' && r.name === 'threadId') found = true;
        return;
      }
      ts.forEachChild(n, walk);
    };
    walk(expr);
    return found;
  };
  // Private declarations and assignments of the body, iterated to a fixed point.
  const sources: { targets: ts.Declaration[]; value: ts.Node }[] = [];
  const collect = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && node.initializer) {
      const targets: ts.Declaration[] = [node, ...bindingElements(node.name)];
      sources.push({ targets, value: node.initializer });
    }
    if ((ts.isForOfStatement(node) || ts.isForInStatement(node)) && ts.isVariableDeclarationList(node.initializer)) {
      const targets: ts.Declaration[] = [];
      for (const d of node.initializer.declarations) {
        targets.push(d, ...bindingElements(d.name));
      }
      sources.push({ targets, value: node.expression });
    }
    ts.forEachChild(node, collect);
  };
  collect(body);
  for (const { id, resolution } of references) {
    if (resolution.kind !== 'private' || !isAssignmentTarget(id)) continue;
    const n = climbTransparent(id);
    const p = n.parent;
    if (p && ts.isBinaryExpression(p) && p.left === n) sources.push({ targets: [resolution.decl], value: p.right });
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const s of sources) {
      if (s.targets.every((t) => dependent.has(t)) || !depends(s.value)) continue;
      for (const t of s.targets) dependent.add(t);
      changed = true;
    }
  }
  return depends;
}

/** `a[e] += …`, `a[e]++`: a read-modify-write of the element, which loses updates when threads meet. */
function isCompoundUpdate(access: ts.Node): boolean {
  const n = climbTransparent(access);
  const p = n.parent;
  if ((ts.isPrefixUnaryExpression(p) || ts.isPostfixUnaryExpression(p)) && isIncrementOrDecrement(p.operator)) return true;
  return ts.isBinaryExpression(p) && p.left === n && p.operatorToken.kind !== ts.SyntaxKind.EqualsToken && isAssignmentOperator(p.operatorToken.kind);
}

const kScatterOperators = new Set([
  ts.SyntaxKind.PercentToken,
  ts.SyntaxKind.AmpersandToken,
  ts.SyntaxKind.BarToken,
  ts.SyntaxKind.CaretToken,
  ts.SyntaxKind.LessThanLessThanToken,
  ts.SyntaxKind.GreaterThanGreaterThanToken,
  ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken,
]);

/**
 * An index computed so that several iterations may land on one element: through a call
 * (Math.floor(x * bins), bin(x)), an array lookup (idx[i]) or a wrapping operator (i % n, i & 3),
 * also by way of private variables initialised so. The histogram pattern.
 */
function isScatterIndex(expr: ts.Expression, resolve: (id: ts.Identifier) => Resolution, seen = new Set<ts.Node>()): boolean {
  let found = false;
  const walk = (n: ts.Node): void => {
    if (found) return;
    // threadId() picks one element per thread: no two threads meet there.
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && resolve(n.expression).kind === 'provided') return;
    if (ts.isCallExpression(n) || ts.isElementAccessExpression(n)) {
      found = true;
      return;
    }
    if (ts.isBinaryExpression(n) && kScatterOperators.has(n.operatorToken.kind)) {
      found = true;
      return;
    }
    if (ts.isIdentifier(n)) {
      if (!isValueReference(n)) return;
      const r = resolve(n);
      if (r.kind === 'private' && ts.isVariableDeclaration(r.decl) && r.decl.initializer && !seen.has(r.decl)) {
        seen.add(r.decl);
        if (isScatterIndex(r.decl.initializer, resolve, seen)) found = true;
      }
      return;
    }
    if (isFunctionLike(n)) return;
    ts.forEachChild(n, walk);
  };
  walk(expr);
  return found;
}

function isFunctionLike(n: ts.Node): boolean {
  return ts.isArrowFunction(n) || ts.isFunctionExpression(n);
}

function isPlainArrayDeclaration(decl: ts.Declaration): boolean {
  if (!ts.isVariableDeclaration(decl) && !ts.isParameter(decl)) return false;
  if (decl.type && isArrayTypeNode(decl.type)) return true;
  if (!decl.initializer) return false;
  const init = skipTransparent(decl.initializer);
  if (ts.isArrayLiteralExpression(init)) return true;
  if ((ts.isNewExpression(init) || ts.isCallExpression(init)) && ts.isIdentifier(init.expression)) {
    return init.expression.text === 'Array';
  }
  if (ts.isCallExpression(init) && ts.isPropertyAccessExpression(init.expression)) {
    const target = init.expression.expression;
    return ts.isIdentifier(target) && target.text === 'Array' && ['from', 'of'].includes(init.expression.name.text);
  }
  return false;
}

function isArrayTypeNode(type: ts.TypeNode): boolean {
  if (ts.isArrayTypeNode(type) || ts.isTupleTypeNode(type)) return true;
  if (ts.isTypeOperatorNode(type)) return isArrayTypeNode(type.type);
  return ts.isTypeReferenceNode(type) && ts.isIdentifier(type.typeName) && ['Array', 'ReadonlyArray'].includes(type.typeName.text);
}

function declarationLine(program: CellProgram, decl: ts.Declaration | undefined): number | undefined {
  return decl ? program.lineOf(decl) : undefined;
}

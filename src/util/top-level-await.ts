/** Whether a module awaits at its top level (`await` or `for await` outside any function). */
import type * as TS from 'typescript';

/** `module`: the TypeScript that parsed `file` (their SyntaxKind numbers must agree). */
export function hasTopLevelAwait(file: TS.SourceFile, module?: typeof TS): boolean {
  const ts = module ?? (require('typescript') as typeof TS); // loaded on first use, as in util/scope.ts
  let found = false;
  const visit = (node: TS.Node): void => {
    if (found || ts.isFunctionLike(node) || ts.isClassLike(node)) return;
    if (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier)) {
      found = true;
      return;
    }
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(file, visit);
  return found;
}

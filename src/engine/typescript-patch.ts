/**
 * One change to tslab's TypeScript (5.0.4, pinned with tslab), made to its source text as the
 * kernel loads it (src/engine/code-cache.ts): the builder's per-file references are remembered
 * for declaration files.
 *
 * Why: tslab's converter rebuilds its watch program for every cell, and the builder state then
 * recomputes, for every file of the program (the libs, @types/node's ~60 files), which files it
 * references, walking each file's imports through the new checker and every ambient module of
 * the program. For a declaration file that did not change (the same SourceFile object, which
 * TypeScript reuses from the old program) the answer is the one computed before. Measured on a
 * kernel given 200 new one-line cells: the best cell 6.8–7.0 ms without, 5.4–5.7 ms with.
 *
 * What it gives up: a .d.ts that did not change but whose imports resolve differently later
 * (a package installed mid-session) keeps its old reference edges. tslab reads the references
 * only through getAllDependencies, for the .ts/.js files a cell imports, never for .d.ts ones.
 *
 * When the text below is not found (another TypeScript), the source loads unchanged.
 */

/** Names the patched source in the code cache's file name. */
export const kTypescriptPatchTag = 'refs1';

const kOriginal = `        function getReferencedFiles(program, sourceFile, getCanonicalFileName) {
          let referencedFiles;`;

const kPatched = `        const tsp_referencedFilesOfDeclarationFile = new WeakMap();
        function getReferencedFiles(program, sourceFile, getCanonicalFileName) {
          if (!sourceFile.isDeclarationFile) return computeReferencedFiles(program, sourceFile, getCanonicalFileName);
          if (tsp_referencedFilesOfDeclarationFile.has(sourceFile)) return tsp_referencedFilesOfDeclarationFile.get(sourceFile);
          const referenced = computeReferencedFiles(program, sourceFile, getCanonicalFileName);
          tsp_referencedFilesOfDeclarationFile.set(sourceFile, referenced);
          return referenced;
        }
        function computeReferencedFiles(program, sourceFile, getCanonicalFileName) {
          let referencedFiles;`;

/** The source with the change, or unchanged when it is not the TypeScript this was written for. */
export function patchTypescriptSource(source: string): { source: string; patched: boolean } {
  const at = source.indexOf(kOriginal);
  if (at < 0 || source.indexOf(kOriginal, at + 1) >= 0) return { source, patched: false };
  return { source: source.slice(0, at) + kPatched + source.slice(at + kOriginal.length), patched: true };
}

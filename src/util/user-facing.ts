/**
 * Errors a user causes by usage (a wrong magic argument, an interrupt, a value that cannot be
 * shipped, a deadlock): their message names the problem and the fix, so the kernel prints them as
 * one line, without a stack of this package's frames. Each layer marks its own error classes
 * here (by extending UserFacingError, or with markUserFacing for a class that must extend
 * another); the kernel's traceback only asks isUserFacing, it keeps no list of other layers' names.
 */
const kUserFacing = Symbol('tslab-parallel.userFacing');

/** An error whose message says everything: shown as `Name: message`, never with a stack. */
export class UserFacingError extends Error {}
markUserFacing(UserFacingError);

/** Marks an error class (and its subclasses) as user-facing. */
export function markUserFacing<C extends abstract new (...args: never[]) => Error>(errorClass: C): C {
  Object.defineProperty(errorClass.prototype, kUserFacing, { value: true });
  return errorClass;
}

export function isUserFacing(err: unknown): boolean {
  return err instanceof Error && (err as unknown as Record<symbol, unknown>)[kUserFacing] === true;
}

/** Wrong usage of a magic or of the kernel; shown as one line `UsageError: …`. */
export class UsageError extends UserFacingError {
  override readonly name = 'UsageError';
}

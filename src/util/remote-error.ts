/**
 * Errors that cross a thread or process boundary. Structured clone keeps only name, message and
 * stack of an Error (and drops subclasses), so errors travel as this plain record and are
 * rebuilt on the other side, with their origin (worker, rank, input) attached for the message.
 */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  /** Own enumerable properties that survive structured clone (e.g. `code`). */
  readonly props?: Record<string, unknown>;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const props: Record<string, unknown> = {};
    for (const key of Object.keys(err)) {
      const v = (err as unknown as Record<string, unknown>)[key];
      if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) props[key] = v;
    }
    return { name: err.name, message: err.message, stack: err.stack, props };
  }
  return { name: 'Error', message: `a non-Error value was thrown: ${describeThrown(err)}` };
}

/**
 * An error that happened elsewhere. `where` names the place ("worker 3", "rank 1") and is
 * prefixed to the message; the remote stack is kept as this error's stack so that the kernel
 * maps its frames back to notebook cells.
 */
export class RemoteError extends Error {
  readonly remoteName: string;
  readonly where: string;

  constructor(remote: SerializedError, where: string, context?: string) {
    const ctx = context ? ` (${context})` : '';
    super(`${where}${ctx}: ${remote.name}: ${remote.message}`);
    this.name = 'RemoteError';
    this.remoteName = remote.name;
    this.where = where;
    if (remote.props) Object.assign(this, remote.props);
    const remoteFrames = (remote.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
    this.stack = `${this.name}: ${this.message}\n${remoteFrames.join('\n')}`;
  }
}

function describeThrown(v: unknown): string {
  try {
    return typeof v === 'string' ? JSON.stringify(v) : String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

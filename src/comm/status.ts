/** What a receive or probe learned about its message (mpi4py's Status, as plain fields). */
export class Status {
  /** Rank (in the communicator) that sent the message; PROC_NULL for a receive from PROC_NULL. */
  source = -1;
  /** Tag of the message. */
  tag = -1;
  /**
   * Elements received: of the receive buffer's type for typed-array messages, bytes of the
   * serialised value for object messages.
   */
  count = 0;

  /** mpi4py's getters, for code ported from Python. */
  Get_source(): number {
    return this.source;
  }
  Get_tag(): number {
    return this.tag;
  }
  Get_count(): number {
    return this.count;
  }

  /** @internal Fills this status in place (receives take an optional status to fill). */
  set(source: number, tag: number, count: number): this {
    this.source = source;
    this.tag = tag;
    this.count = count;
    return this;
  }
}

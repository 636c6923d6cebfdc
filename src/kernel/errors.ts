/** Errors the kernel itself raises into a cell. */
import { UsageError, UserFacingError } from '../util/user-facing.js';

/** The cell was stopped by an interrupt (the name Jupyter users know from IPython). */
export class KeyboardInterrupt extends UserFacingError {
  override readonly name = 'KeyboardInterrupt';
  constructor() {
    super('the cell was interrupted; the kernel and its variables are still there');
  }
}

export const Errors = {
  MisplacedCellMagic: (name: string) =>
    new UsageError(`%%${name} must be on the first line of the cell (cell magics apply to the whole cell); move it to the top, or use %${name} for one line`),
};

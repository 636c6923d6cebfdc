import { sharedSymbol } from '../util/global-object.js';

/** A Jupyter MIME bundle: mime type → data (text for text types, base64 for binary, JSON objects for +json). */
export type MimeBundle = Record<string, unknown>;

export interface DisplayOptions {
  /** Metadata per mime type, as in display_data. */
  readonly metadata?: Record<string, unknown>;
  /** Give the output an id so it can be updated later. */
  readonly id?: string;
}

/** An output that can be replaced in place (update_display_data). */
export interface DisplayHandle {
  readonly id: string;
  readonly [kNoResult]?: true;
  update(value: unknown, options?: { metadata?: Record<string, unknown> }): void;
}

/**
 * Where display calls go. The kernel installs one per cell execution; outside a kernel the
 * default sink prints the text/plain part to stdout.
 */
export interface DisplaySink {
  display(bundle: MimeBundle, metadata: Record<string, unknown>, id: string | undefined): void;
  update(bundle: MimeBundle, metadata: Record<string, unknown>, id: string): void;
}

/** A value that knows how to show itself (the counterpart of IPython's _repr_mimebundle_). */
export interface Displayable {
  [kToMimeBundle](): MimeBundle;
}

/** Shared by every copy of this package in a process, so a value made by one copy renders in another. */
export const kToMimeBundle: unique symbol = sharedSymbol('toMimeBundle') as never;

/**
 * Marks values that a cell should not echo as its result, like IPython's display() returning
 * None: `display.plotly(fig)` on a cell's last line shows the figure once, not also its handle.
 */
export const kNoResult: unique symbol = sharedSymbol('noResult') as never;

/** Jupyter messaging protocol 5.3: the shapes this kernel sends and receives. */

export const kProtocolVersion = '5.3';

export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
  /** Subshell extension and others: unknown keys are carried through untouched. */
  [key: string]: unknown;
}

export interface Message<C = Record<string, unknown>> {
  header: MessageHeader;
  /** The request this message answers; `{}` when there is none. */
  parent_header: MessageHeader | Record<string, never>;
  metadata: Record<string, unknown>;
  content: C;
  buffers: Buffer[];
}

/** A message as it arrived on a ROUTER socket: the routing identities are needed to reply. */
export interface IncomingMessage extends Message {
  identities: Buffer[];
}

export type Channel = 'shell' | 'control' | 'iopub' | 'stdin' | 'hb';

export interface ExecuteRequestContent {
  code: string;
  silent: boolean;
  store_history: boolean;
  user_expressions: Record<string, string>;
  allow_stdin: boolean;
  stop_on_error: boolean;
}

export type ReplyStatus = 'ok' | 'error' | 'aborted';

export interface ErrorContent {
  ename: string;
  evalue: string;
  traceback: string[];
}

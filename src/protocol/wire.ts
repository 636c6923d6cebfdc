/**
 * The Jupyter wire format: signing, serialising and parsing multipart messages.
 *
 *   [identities…, '<IDS|MSG>', signature, header, parent_header, metadata, content, buffers…]
 *
 * The signature is an HMAC of the four JSON frames with the key and scheme of the connection
 * file. Every incoming message is verified before anything looks at it; a message with a
 * missing or wrong signature, or a replayed one, is rejected with a reason for the log.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { kProtocolVersion, type IncomingMessage, type Message, type MessageHeader } from './messages.js';

const kDelimiter = Buffer.from('<IDS|MSG>');
/** How many recent signatures are remembered to refuse replays (jupyter_client keeps 2**16). */
const kDigestHistorySize = 1 << 16;

export class WireError extends Error {
  override readonly name = 'WireError';
}

export class Signer {
  readonly #key: Buffer;
  readonly #algorithm: string;
  readonly #seen = new Set<string>();

  /** `scheme` as in the connection file, e.g. 'hmac-sha256'. An empty key disables signing. */
  constructor(key: string, scheme = 'hmac-sha256') {
    this.#key = Buffer.from(key, 'utf8');
    if (!scheme.startsWith('hmac-')) throw new WireError(`unsupported signature scheme '${scheme}': use hmac-sha256`);
    this.#algorithm = scheme.slice('hmac-'.length);
  }

  get enabled(): boolean {
    return this.#key.length > 0;
  }

  sign(frames: readonly Buffer[]): string {
    if (!this.enabled) return '';
    const hmac = createHmac(this.#algorithm, this.#key);
    for (const f of frames) hmac.update(f);
    return hmac.digest('hex');
  }

  /** Throws WireError unless `signature` is the signature of `frames` and was not seen before. */
  verify(signature: string, frames: readonly Buffer[]): void {
    if (!this.enabled) return;
    if (!signature) throw new WireError('message has no signature');
    const expected = Buffer.from(this.sign(frames), 'utf8');
    const given = Buffer.from(signature, 'utf8');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new WireError('message signature does not match (wrong key, or the message was altered)');
    }
    if (this.#seen.has(signature)) throw new WireError('message signature was already used (replayed message)');
    if (this.#seen.size >= kDigestHistorySize) this.#seen.clear();
    this.#seen.add(signature);
  }
}

export function makeHeader(msgType: string, session: string, username = 'kernel'): MessageHeader {
  return {
    msg_id: randomUUID(),
    msg_type: msgType,
    session,
    username,
    date: new Date().toISOString(),
    version: kProtocolVersion,
  };
}

export function serialize(msg: Message, signer: Signer, identities: readonly Buffer[] = []): Buffer[] {
  const frames = [
    Buffer.from(JSON.stringify(msg.header)),
    Buffer.from(JSON.stringify(msg.parent_header ?? {})),
    Buffer.from(JSON.stringify(msg.metadata ?? {})),
    Buffer.from(JSON.stringify(msg.content ?? {})),
  ];
  return [...identities, kDelimiter, Buffer.from(signer.sign(frames)), ...frames, ...(msg.buffers ?? [])];
}

/** Parses and verifies a multipart message; throws WireError with the reason when it is not valid. */
export function parse(frames: readonly Buffer[], signer: Signer): IncomingMessage {
  const at = frames.findIndex((f) => f.equals(kDelimiter));
  if (at < 0) throw new WireError('message has no <IDS|MSG> delimiter');
  if (frames.length < at + 6) throw new WireError(`message has ${frames.length - at - 1} frames after the delimiter, expected at least 5`);
  const signature = frames[at + 1].toString('utf8');
  const jsonFrames = frames.slice(at + 2, at + 6);
  signer.verify(signature, jsonFrames);
  const [header, parent, metadata, content] = jsonFrames.map((f, i) => parseJsonObject(f, kFrameNames[i]));
  if (typeof header.msg_type !== 'string' || typeof header.msg_id !== 'string') {
    throw new WireError('message header lacks msg_type or msg_id');
  }
  return {
    identities: frames.slice(0, at).map((f) => Buffer.from(f)),
    header: header as MessageHeader,
    parent_header: parent as MessageHeader,
    metadata,
    content,
    buffers: frames.slice(at + 6).map((f) => Buffer.from(f)),
  };
}

const kFrameNames = ['header', 'parent_header', 'metadata', 'content'];

function parseJsonObject(frame: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(frame.toString('utf8'));
  } catch {
    throw new WireError(`message ${what} is not valid JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new WireError(`message ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

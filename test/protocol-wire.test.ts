/**
 * The wire format, as a unit: HMAC-SHA256 signatures (checked against an independent HMAC),
 * serialise/parse round trips with routing identities and buffers, rejection of wrong, missing
 * and replayed signatures, and a fuzzer: random and mutated frames only ever give a WireError.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeHeader, parse, serialize, Signer, WireError } from '../dist/src/protocol/wire.js';
import type { Message } from '../dist/src/protocol/messages.js';
import { kFuzzSeed, Random } from './helpers/fuzz.js';

const kKey = 'a-test-key-0123456789';
const delimiter = Buffer.from('<IDS|MSG>');

function message(content: Record<string, unknown> = { code: '1 + 1' }): Message {
  return { header: makeHeader('execute_request', 'session-1', 'tester'), parent_header: {}, metadata: { m: 1 }, content, buffers: [] };
}

describe('signing', () => {
  it('signs the four JSON frames with HMAC-SHA256 of the key, as jupyter_client does', () => {
    const frames = serialize(message(), new Signer(kKey));
    const at = frames.findIndex((f) => f.equals(delimiter));
    const hmac = createHmac('sha256', kKey);
    for (const f of frames.slice(at + 2, at + 6)) hmac.update(f);
    expect(frames[at + 1].toString()).toBe(hmac.digest('hex'));
  });

  it('supports other hmac schemes and refuses non-hmac ones with the fix', () => {
    const frames = serialize(message(), new Signer(kKey, 'hmac-sha512'));
    expect(frames[1].toString()).toHaveLength(128);
    expect(() => parse(frames, new Signer(kKey, 'hmac-sha512'))).not.toThrow();
    expect(() => new Signer(kKey, 'rsa-sha256')).toThrow(/unsupported signature scheme 'rsa-sha256': use hmac-sha256/);
  });

  it('an empty key disables signing (an empty signature, accepted)', () => {
    const frames = serialize(message(), new Signer(''));
    expect(frames[1].toString()).toBe('');
    expect(parse(frames, new Signer('')).content).toEqual({ code: '1 + 1' });
  });
});

describe('parse', () => {
  it('round-trips a message with routing identities, unicode and binary buffers', () => {
    const msg = { ...message({ code: 'const ü = "→ 😀";\n', n: 3 }), buffers: [Buffer.from([0, 1, 2, 255])] };
    const ids = [Buffer.from('client-a'), Buffer.from([0, 0xff, 7])];
    const parsed = parse(serialize(msg, new Signer(kKey), ids), new Signer(kKey));
    expect(parsed.identities).toEqual(ids);
    expect(parsed.header).toEqual(msg.header);
    expect(parsed.parent_header).toEqual({});
    expect(parsed.metadata).toEqual({ m: 1 });
    expect(parsed.content).toEqual(msg.content);
    expect(parsed.buffers).toEqual(msg.buffers);
  });

  it('rejects a message signed with another key, with no signature, or altered after signing', () => {
    const signer = new Signer(kKey);
    expect(() => parse(serialize(message(), new Signer('other key')), signer)).toThrow(new WireError('message signature does not match (wrong key, or the message was altered)'));
    const unsigned = serialize(message(), new Signer(''));
    expect(() => parse(unsigned, signer)).toThrow(new WireError('message has no signature'));
    const altered = serialize(message(), signer);
    altered[5] = Buffer.from(JSON.stringify({ code: 'require("fs").rmSync("/", { recursive: true })' }));
    expect(() => parse(altered, signer)).toThrow(/signature does not match/);
  });

  it('rejects a replayed message (a signature seen before)', () => {
    const signer = new Signer(kKey);
    const frames = serialize(message(), new Signer(kKey));
    expect(() => parse(frames, signer)).not.toThrow();
    expect(() => parse(frames, signer)).toThrow(new WireError('message signature was already used (replayed message)'));
  });

  it('says what is wrong with malformed messages', () => {
    const signer = new Signer(kKey);
    const signed = (jsonFrames: string[]) => {
      const frames = jsonFrames.map((f) => Buffer.from(f));
      return [delimiter, Buffer.from(signer.sign(frames)), ...frames];
    };
    const header = JSON.stringify(makeHeader('execute_request', 's'));
    const cases: [Buffer[], string][] = [
      [[Buffer.from('hello')], 'message has no <IDS|MSG> delimiter'],
      [[delimiter, Buffer.from('sig'), Buffer.from('{}')], 'message has 2 frames after the delimiter, expected at least 5'],
      [signed(['not json', '{}', '{}', '{}']), 'message header is not valid JSON'],
      [signed([header, '[]', '{}', '{}']), 'message parent_header is not a JSON object'],
      [signed([header, '{}', 'null', '{}']), 'message metadata is not a JSON object'],
      [signed([header, '{}', '{}', '"text"']), 'message content is not a JSON object'],
      [signed(['{"msg_id": "1"}', '{}', '{}', '{}']), 'message header lacks msg_type or msg_id'],
      [signed(['{"msg_id": 1, "msg_type": "execute_request"}', '{}', '{}', '{}']), 'message header lacks msg_type or msg_id'],
    ];
    for (const [frames, reason] of cases) expect(() => parse(frames, signer), reason).toThrow(new WireError(reason));
  });
});

describe(`fuzzing the message parser (seed ${kFuzzSeed})`, () => {
  it('random frames: never anything but a WireError, never a message', () => {
    const rnd = new Random();
    const signer = new Signer(kKey);
    for (let i = 0; i < 3000; i++) {
      const frames = Array.from({ length: rnd.int(0, 9) }, () =>
        rnd.chance(0.15) ? delimiter : rnd.chance(0.3) ? Buffer.from(rnd.string(rnd.int(0, 40))) : rnd.bytes(rnd.int(0, 64)),
      );
      expect(() => parse(frames, signer)).toThrow(WireError);
    }
  });

  it('validly signed frames of random JSON-ish text: a WireError or a well-formed message', () => {
    const rnd = new Random(kFuzzSeed + 1);
    const signer = new Signer(kKey);
    const pieces = ['{', '}', '[', ']', '"msg_id"', '"msg_type"', ':', ',', '"x"', '1', 'null', 'true', '"\\u0000"', ' ', '{"msg_id":"a","msg_type":"b"}'];
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const json = Array.from({ length: 4 }, () => Buffer.from(Array.from({ length: rnd.int(0, 8) }, () => rnd.pick(pieces)).join('')));
      if (rnd.chance(0.3)) json[0] = Buffer.from('{"msg_id":"m","msg_type":"t"}');
      for (let j = 1; j < 4; j++) if (rnd.chance(0.5)) json[j] = Buffer.from('{}');
      const frames = [delimiter, Buffer.from(signer.sign(json)), ...json];
      let msg;
      try {
        msg = parse(frames, new Signer(kKey));
      } catch (err) {
        expect(err).toBeInstanceOf(WireError);
        continue;
      }
      parsed++;
      expect(typeof msg.header.msg_id).toBe('string');
      expect(typeof msg.header.msg_type).toBe('string');
      for (const part of [msg.parent_header, msg.metadata, msg.content]) expect(part !== null && typeof part === 'object' && !Array.isArray(part)).toBe(true);
    }
    expect(parsed).toBeGreaterThan(0); // the generator does reach valid messages
  });

  it('any single-byte change to a signed message is caught by the signature', () => {
    const rnd = new Random(kFuzzSeed + 2);
    for (let i = 0; i < 500; i++) {
      const frames = serialize(message({ code: rnd.string(rnd.int(0, 30)) }), new Signer(kKey));
      const f = rnd.int(2, 5); // header, parent, metadata or content
      const bytes = Buffer.from(frames[f]);
      if (bytes.length === 0) continue;
      const at = rnd.int(0, bytes.length - 1);
      bytes[at] = (bytes[at] + rnd.int(1, 255)) & 0xff;
      frames[f] = bytes;
      expect(() => parse(frames, new Signer(kKey))).toThrow(WireError);
    }
  });
});

/**
 * Object messages on the wire: structured clone (v8's serializer, the algorithm postMessage
 * uses), with one-byte formats in front so that the common small values — a number, a
 * boolean, a short string — skip the serializer, whose set-up costs microseconds.
 */
import * as v8 from 'node:v8';
import { Errors } from './errors.js';

const kV8 = 0;
const kNumber = 1;
const kUndefined = 2;
const kNull = 3;
const kTrue = 4;
const kFalse = 5;
const kString = 6;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

export function serialize(value: unknown): Uint8Array {
  switch (typeof value) {
    case 'number': {
      const out = new Uint8Array(9);
      out[0] = kNumber;
      f64[0] = value;
      out.set(f64Bytes, 1);
      return out;
    }
    case 'undefined':
      return Uint8Array.of(kUndefined);
    case 'boolean':
      return Uint8Array.of(value ? kTrue : kFalse);
    case 'string':
      if (value.length < 256) {
        const out = new Uint8Array(1 + value.length * 3);
        out[0] = kString;
        const { written } = encoder.encodeInto(value, out.subarray(1));
        return out.subarray(0, 1 + written);
      }
      break;
    case 'object':
      if (value === null) return Uint8Array.of(kNull);
      break;
  }
  let body: Buffer;
  try {
    body = v8.serialize(value);
  } catch (err) {
    throw Errors.Unsendable(err);
  }
  const out = new Uint8Array(body.byteLength + 1);
  out[0] = kV8;
  out.set(body, 1);
  return out;
}

/** Reads a value from bytes (which may be a view into shared memory; they are not kept). */
export function deserialize(bytes: Uint8Array): unknown {
  switch (bytes[0]) {
    case kNumber:
      f64Bytes.set(bytes.subarray(1, 9));
      return f64[0];
    case kUndefined:
      return undefined;
    case kNull:
      return null;
    case kTrue:
      return true;
    case kFalse:
      return false;
    case kString:
      // TextDecoder refuses views of shared memory: copy the (short) string bytes first.
      return decoder.decode(bytes.buffer instanceof SharedArrayBuffer ? bytes.slice(1) : bytes.subarray(1));
    default:
      return v8.deserialize(bytes.subarray(1));
  }
}

/**
 * The few DER (X.690) pieces okms reads and writes: tag-length-value
 * elements with definite, minimal lengths, and positive INTEGERs.
 * @module
 */

/** DER tags okms uses. */
export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
} as const;

/** Input that is not the DER okms expects; the message says where and why. */
export class DerError extends Error {
  override name = "DerError";
}

/** One element read by {@linkcode readElement}. */
export interface DerElement {
  tag: number;
  /** The contents (a view into the input). */
  value: Uint8Array;
  /** Where the next element starts. */
  end: number;
}

/**
 * Reads the element at `at` of `bytes`, which must have tag `tag`. Only
 * DER is accepted: one-byte tags, definite lengths in their shortest form,
 * contents within the input.
 *
 * @throws {DerError} when the element is not that.
 * @example
 * ```ts
 * const sequence = readElement(spki, 0, TAG.SEQUENCE);
 * const algorithm = readElement(sequence.value, 0, TAG.SEQUENCE);
 * ```
 */
export function readElement(
  bytes: Uint8Array,
  at: number,
  tag: number,
): DerElement {
  if (at + 2 > bytes.byteLength) throw new DerError("truncated element");
  if (bytes[at] !== tag) {
    throw new DerError(
      `expected tag 0x${tag.toString(16)}, found 0x${bytes[at].toString(16)}`,
    );
  }
  let length = bytes[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 3) {
      throw new DerError("indefinite or oversized length");
    }
    if (start + octets > bytes.byteLength) {
      throw new DerError("truncated length");
    }
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + bytes[start + i];
    if (length < 0x80 || bytes[start] === 0) {
      throw new DerError("length not in its shortest form");
    }
    start += octets;
  }
  const end = start + length;
  if (end > bytes.byteLength) throw new DerError("contents past the input");
  return { tag, value: bytes.subarray(start, end), end };
}

/**
 * Reads `bytes` as exactly one element with tag `tag` (nothing may follow).
 *
 * @throws {DerError} when it is not.
 * @example
 * ```ts
 * const point = readOnly(ecPointAttribute, TAG.OCTET_STRING);
 * ```
 */
export function readOnly(bytes: Uint8Array, tag: number): Uint8Array {
  const element = readElement(bytes, 0, tag);
  if (element.end !== bytes.byteLength) {
    throw new DerError("bytes follow the element");
  }
  return element.value;
}

/**
 * Encodes one element of tag `tag` whose contents are `parts`, in order.
 *
 * @example
 * ```ts
 * const sequence = encodeElement(TAG.SEQUENCE, encodeElement(TAG.NULL));
 * ```
 */
export function encodeElement(
  tag: number,
  ...parts: Uint8Array[]
): Uint8Array<ArrayBuffer> {
  const length = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const lengthOctets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) {
    lengthOctets.unshift(rest % 256);
  }
  const header = length < 0x80
    ? [tag, length]
    : [tag, 0x80 | lengthOctets.length, ...lengthOctets];
  const out = new Uint8Array(header.length + length);
  out.set(header);
  let at = header.length;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/**
 * A DER INTEGER of the unsigned big-endian `magnitude`: leading zeros
 * dropped, one zero added when the high bit is set.
 *
 * @example
 * ```ts
 * encodeUnsignedInteger(Uint8Array.of(0x00, 0x80)); // 02 02 00 80
 * ```
 */
export function encodeUnsignedInteger(
  magnitude: Uint8Array,
): Uint8Array<ArrayBuffer> {
  let start = 0;
  while (start < magnitude.byteLength - 1 && magnitude[start] === 0) start++;
  const digits = magnitude.subarray(start);
  return digits[0] & 0x80
    ? encodeElement(TAG.INTEGER, Uint8Array.of(0), digits)
    : encodeElement(TAG.INTEGER, digits);
}

/**
 * The unsigned big-endian magnitude of a DER INTEGER's contents, which must
 * be positive (or zero) and minimally encoded.
 *
 * @throws {DerError} when they are empty, negative or padded.
 * @example
 * ```ts
 * const r = unsignedInteger(readElement(signature, 0, TAG.INTEGER).value);
 * ```
 */
export function unsignedInteger(contents: Uint8Array): Uint8Array {
  if (contents.byteLength === 0) throw new DerError("empty INTEGER");
  if (contents[0] & 0x80) throw new DerError("negative INTEGER");
  if (contents.byteLength > 1 && contents[0] === 0) {
    if ((contents[1] & 0x80) === 0) {
      throw new DerError("INTEGER not in its shortest form");
    }
    return contents.subarray(1);
  }
  return contents;
}

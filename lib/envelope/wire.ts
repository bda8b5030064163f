/**
 * Big-endian byte reading with bounds checks, and the small writes the
 * message format needs.
 * @module
 */
import { InvalidCiphertextException } from "../errors.ts";

/** Thrown by {@linkcode ByteReader} when the input ends before a field does. */
export class IncompleteInput extends Error {
  override name = "IncompleteInput";
}

/** The error for any malformed, altered or foreign message. */
export function invalidMessage(what: string): InvalidCiphertextException {
  return new InvalidCiphertextException(`Invalid envelope message: ${what}`);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads fields off the front of `bytes`; never reads past its end. */
export class ByteReader {
  readonly #bytes: Uint8Array<ArrayBuffer>;
  #at = 0;

  constructor(bytes: Uint8Array<ArrayBuffer>) {
    this.#bytes = bytes;
  }

  /** How many bytes have been read. */
  get offset(): number {
    return this.#at;
  }

  /** The next `length` bytes (a view). */
  bytes(length: number): Uint8Array<ArrayBuffer> {
    if (this.#at + length > this.#bytes.length) throw new IncompleteInput();
    const view = this.#bytes.subarray(this.#at, this.#at + length);
    this.#at += length;
    return view;
  }

  uint8(): number {
    return this.bytes(1)[0];
  }

  uint16(): number {
    const b = this.bytes(2);
    return (b[0] << 8) | b[1];
  }

  uint32(): number {
    const b = this.bytes(4);
    return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  }

  /** A UInt16 length, then that many bytes. */
  lengthPrefixed(): Uint8Array<ArrayBuffer> {
    return this.bytes(this.uint16());
  }

  /** A UInt16 length, then that many bytes of UTF-8 text. */
  utf8(what: string): string {
    try {
      return strictUtf8.decode(this.lengthPrefixed());
    } catch (error) {
      if (error instanceof IncompleteInput) throw error;
      throw invalidMessage(`${what} is not UTF-8`);
    }
  }
}

/** Writes `value` as a big-endian UInt16 at `at`; returns the next offset. */
export function putUint16(out: Uint8Array, at: number, value: number): number {
  out[at] = value >>> 8;
  out[at + 1] = value & 0xff;
  return at + 2;
}

/** Writes `value` as a big-endian UInt32 at `at`; returns the next offset. */
export function putUint32(out: Uint8Array, at: number, value: number): number {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
  return at + 4;
}

/** The bytes of all `parts`, one after the other, in a new buffer. */
export function concatBytes(
  parts: readonly Uint8Array[],
): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Whether `a` and `b` hold the same bytes, in time independent of where they differ. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

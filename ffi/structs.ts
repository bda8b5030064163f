/**
 * PKCS#11 structures written with `DataView` at their LP64 offsets.
 *
 * Buffers whose address is written into a structure are allocated off the V8
 * heap (`new ArrayBuffer`) so the garbage collector never moves them, and the
 * structure object keeps them referenced for as long as it lives.
 * @module
 */
import { CK_ULONG_SIZE } from "./constants.ts";

/** A zeroed buffer whose memory never moves: safe to point at from C. */
export function fixedBuffer(size: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(size));
}

/** The address of a buffer as a `CK_VOID_PTR` value (0 for an empty one). */
export function addressOf(buffer: Uint8Array): bigint {
  if (buffer.byteLength === 0) return 0n;
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer)));
}

const WORD = 0x1_0000_0000;

/**
 * Reads the `CK_ULONG` at `offset`, as a number (all okms values fit). It
 * is read as two 32-bit words: a BigInt would be an allocation per call.
 */
export function readUlong(buffer: Uint8Array, offset = 0): number {
  const words = view(buffer);
  return words.getUint32(offset, true) +
    words.getUint32(offset + 4, true) * WORD;
}

/** Writes a `CK_ULONG` at `offset` (a number as two words, see {@linkcode readUlong}). */
export function writeUlong(
  buffer: Uint8Array,
  value: number | bigint,
  offset = 0,
): void {
  const words = view(buffer);
  if (typeof value === "bigint") {
    words.setBigUint64(offset, value, true);
    return;
  }
  words.setUint32(offset, value >>> 0, true);
  words.setUint32(offset + 4, Math.floor(value / WORD) >>> 0, true);
}

const views = new WeakMap<Uint8Array, DataView>();

/**
 * A DataView on `buffer`, made once: creating one costs as much as a C call
 * here, and the length and parameter words are written on every operation.
 */
function view(buffer: Uint8Array): DataView {
  let dataView = views.get(buffer);
  if (dataView === undefined) {
    dataView = new DataView(
      buffer.buffer,
      buffer.byteOffset,
      buffer.byteLength,
    );
    views.set(buffer, dataView);
  }
  return dataView;
}

/** An attribute value: `CK_BBOOL`, `CK_ULONG`, bytes, or UTF-8 text. */
export type AttributeValue = boolean | number | Uint8Array | string;

/** One `CK_ATTRIBUTE`: its `CKA_*` type and value. */
export type Attribute = readonly [type: number, value: AttributeValue];

const ATTRIBUTE_SIZE = 3 * CK_ULONG_SIZE; // type, pValue, ulValueLen

function encodeValue(value: AttributeValue): Uint8Array {
  if (typeof value === "boolean") return fixedBuffer(1).fill(value ? 1 : 0);
  if (typeof value === "number") {
    const bytes = fixedBuffer(CK_ULONG_SIZE);
    writeUlong(bytes, value);
    return bytes;
  }
  const bytes = typeof value === "string"
    ? new TextEncoder().encode(value)
    : value;
  const copy = fixedBuffer(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/**
 * A `CK_ATTRIBUTE` array and the value buffers it points at.
 *
 * @example
 * ```ts
 * const template = new Template([[CKA.CLASS, CKO.SECRET_KEY], [CKA.TOKEN, true]]);
 * p11.findObjects(session, template);
 * ```
 */
export class Template {
  /** The `CK_ATTRIBUTE[]` memory. */
  readonly struct: Uint8Array;
  /** The number of attributes (`ulCount`). */
  readonly count: number;
  readonly #values: Uint8Array[];

  constructor(attributes: readonly Attribute[]) {
    this.count = attributes.length;
    this.struct = fixedBuffer(Math.max(1, this.count) * ATTRIBUTE_SIZE);
    this.#values = attributes.map(([, value]) => encodeValue(value));
    attributes.forEach(([type], i) => {
      const value = this.#values[i];
      const at = i * ATTRIBUTE_SIZE;
      writeUlong(this.struct, type, at);
      writeUlong(this.struct, addressOf(value), at + CK_ULONG_SIZE);
      writeUlong(this.struct, value.byteLength, at + 2 * CK_ULONG_SIZE);
    });
  }
}

/**
 * A template for `C_GetAttributeValue`: one output buffer per requested type.
 */
export class ReadTemplate {
  /** The `CK_ATTRIBUTE[]` memory. */
  readonly struct: Uint8Array;
  /** The number of attributes. */
  readonly count: number;
  readonly #outputs: Uint8Array[];

  constructor(requests: readonly (readonly [type: number, size: number])[]) {
    this.count = requests.length;
    this.struct = fixedBuffer(Math.max(1, this.count) * ATTRIBUTE_SIZE);
    this.#outputs = requests.map(([, size]) => fixedBuffer(size));
    requests.forEach(([type], i) => {
      const out = this.#outputs[i];
      const at = i * ATTRIBUTE_SIZE;
      writeUlong(this.struct, type, at);
      writeUlong(this.struct, addressOf(out), at + CK_ULONG_SIZE);
      writeUlong(this.struct, out.byteLength, at + 2 * CK_ULONG_SIZE);
    });
  }

  /**
   * The bytes the module wrote for attribute `i`, or `undefined` when it set
   * `ulValueLen` to `CK_UNAVAILABLE_INFORMATION` (sensitive or invalid).
   */
  value(i: number): Uint8Array | undefined {
    const length = view(this.struct).getBigUint64(
      i * ATTRIBUTE_SIZE + 2 * CK_ULONG_SIZE,
      true,
    );
    if (length > BigInt(this.#outputs[i].byteLength)) return undefined;
    return this.#outputs[i].slice(0, Number(length));
  }

  /** Zeroes every output buffer (after reading a secret value). */
  clear(): void {
    for (const output of this.#outputs) output.fill(0);
  }
}

const MECHANISM_SIZE = 3 * CK_ULONG_SIZE; // mechanism, pParameter, ulParameterLen

/** A `CK_MECHANISM`, keeping its parameter buffer referenced. */
export class Mechanism {
  /** The `CK_MECHANISM` memory. */
  readonly struct: Uint8Array = fixedBuffer(MECHANISM_SIZE);
  /** The parameter memory, referenced for as long as the mechanism lives. */
  readonly parameter: Uint8Array;

  constructor(type: number, parameter: Uint8Array = fixedBuffer(0)) {
    this.parameter = parameter;
    writeUlong(this.struct, type, 0);
    writeUlong(this.struct, addressOf(parameter), CK_ULONG_SIZE);
    writeUlong(this.struct, parameter.byteLength, 2 * CK_ULONG_SIZE);
  }
}

/** `CK_C_INITIALIZE_ARGS` with only `flags` set (no mutex callbacks). */
export function initializeArgs(flags: number): Uint8Array {
  const args = fixedBuffer(6 * CK_ULONG_SIZE); // 4 callbacks, flags, pReserved
  writeUlong(args, flags, 4 * CK_ULONG_SIZE);
  return args;
}

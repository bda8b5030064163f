/**
 * Bytes in and out of the SubtleCrypto face: `BufferSource` arguments as
 * `Uint8Array` views, results as `ArrayBuffer`s of their own.
 * @module
 */

/**
 * A view on the bytes of `data` (no copy).
 *
 * @example
 * ```ts
 * bytes(new Uint16Array([1])).byteLength; // 2
 * ```
 */
export function bytes(data: BufferSource): Uint8Array<ArrayBuffer> {
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(
      data.buffer as ArrayBuffer,
      data.byteOffset,
      data.byteLength,
    );
  }
  return new Uint8Array(data);
}

/**
 * `data` as an ArrayBuffer of its own; when that needs a copy, the original
 * is zeroed (it may be a plaintext or a shared secret).
 *
 * @example
 * ```ts
 * const { plaintext } = await kms.decrypt(input);
 * return arrayBuffer(plaintext);
 * ```
 */
export function arrayBuffer(data: Uint8Array): ArrayBuffer {
  const whole = data.byteOffset === 0 &&
    data.byteLength === data.buffer.byteLength;
  if (whole) return data.buffer as ArrayBuffer;
  const copy = data.slice();
  data.fill(0);
  return copy.buffer;
}

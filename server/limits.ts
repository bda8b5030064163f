/**
 * Request size limits, enforced before anything is parsed: header count and
 * size, and the body read up to a cap. Limits are refused with AWS KMS's own
 * `ValidationException` (400), the error it gives a member over its length,
 * since SDKs surface names outside the KMS model only as generic errors.
 * @module
 */
import { KmsError, ValidationException } from "../mod.ts";
import { SerializationException } from "./errors.ts";

/** The limits a request must keep. */
export interface RequestLimits {
  /** Largest body, bytes. */
  maxBodyBytes: number;
  /** Most header fields. */
  maxHeaders: number;
  /** Largest total of header names and values, bytes (characters). */
  maxHeaderBytes: number;
}

/** 64 KiB of body (AWS's largest KMS request is far smaller), 64 headers, 16 KiB of headers. */
export const DEFAULT_LIMITS: Readonly<RequestLimits> = {
  maxBodyBytes: 64 * 1024,
  maxHeaders: 64,
  maxHeaderBytes: 16 * 1024,
};

/**
 * Checks the number and total size of the request headers.
 *
 * @throws {ValidationException} when they exceed the limits.
 */
export function checkHeaders(headers: Headers, limits: RequestLimits): void {
  let count = 0;
  let bytes = 0;
  for (const [name, value] of headers) {
    count++;
    bytes += name.length + value.length;
  }
  if (count > limits.maxHeaders || bytes > limits.maxHeaderBytes) {
    throw new ValidationException(
      `requests carry at most ${limits.maxHeaders} headers of ${limits.maxHeaderBytes} bytes in all`,
    );
  }
}

function tooLarge(limit: number): never {
  throw new ValidationException(
    `the request body is larger than ${limit} bytes`,
  );
}

/**
 * The request body, read only while it stays within `maxBytes`: a larger
 * `Content-Length` is refused unread, and a body without one is streamed
 * and cut off as soon as it passes the limit.
 *
 * @throws {ValidationException} when the body is too large.
 * @throws {SerializationException} when the body cannot be read in full: the
 * client sent less than its `Content-Length`, or closed its side early.
 * @example
 * ```ts
 * const body = await readBody(request, 65536);
 * ```
 */
export async function readBody(
  request: Request,
  maxBytes: number,
): Promise<Uint8Array> {
  try {
    return await readWithin(request, maxBytes);
  } catch (error) {
    if (error instanceof KmsError) throw error;
    // Only the connection can fail a body read: the client's doing.
    throw new SerializationException(
      "the request body could not be read in full (it ended before its Content-Length, or the connection closed)",
    );
  }
}

async function readWithin(
  request: Request,
  maxBytes: number,
): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (!(Number(declared) <= maxBytes)) tooLarge(maxBytes);
    // The HTTP layer delivers exactly Content-Length bytes: read them whole.
    const body = await request.bytes();
    if (body.byteLength > maxBytes) tooLarge(maxBytes);
    return body;
  }
  if (request.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.byteLength;
    if (size > maxBytes) tooLarge(maxBytes); // leaving the loop cancels the stream
    chunks.push(chunk);
  }
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/**
 * Request size limits, enforced before anything is parsed: the body is read
 * up to a cap (the signed headers' limits are the SigV4 verifier's). Limits are refused with AWS KMS's own
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
  /** Most signed header fields. */
  maxHeaders: number;
  /** Largest total of signed header names and values, bytes (characters). */
  maxHeaderBytes: number;
}

/**
 * 64 KiB of body (AWS's largest KMS request is far smaller), 64 signed
 * headers, 16 KiB of them. Only signed headers are read; Deno's HTTP layer
 * refuses a request head of more than about 100 headers or 100 KiB itself.
 */
export const DEFAULT_LIMITS: Readonly<RequestLimits> = {
  maxBodyBytes: 64 * 1024,
  maxHeaders: 64,
  maxHeaderBytes: 16 * 1024,
};

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

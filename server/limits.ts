/**
 * Request size limits, enforced before anything is parsed: the body is read
 * up to a cap (the signed headers' limits are the SigV4 verifier's). Limits are refused with AWS KMS's own
 * `ValidationException` (400), the error it gives a member over its length,
 * since SDKs surface names outside the KMS model only as generic errors.
 * @module
 */
import { ValidationException } from "../mod.ts";
import { SerializationException } from "./errors.ts";

/** The limits a request must keep. */
export interface RequestLimits {
  /** Largest body, bytes. */
  maxBodyBytes: number;
  /** Most signed header fields. */
  maxHeaders: number;
  /** Largest total of signed header names and values, bytes (characters). */
  maxHeaderBytes: number;
  /** How long a body may take to arrive, ms. */
  bodyTimeoutMs: number;
}

/**
 * 64 KiB of body (AWS's largest KMS request is far smaller) within 10 s,
 * 64 signed headers, 16 KiB of them. Only signed headers are read; Deno's HTTP layer
 * refuses a request head of more than about 100 headers or 100 KiB itself.
 */
export const DEFAULT_LIMITS: Readonly<RequestLimits> = {
  maxBodyBytes: 64 * 1024,
  maxHeaders: 64,
  maxHeaderBytes: 16 * 1024,
  bodyTimeoutMs: 10_000,
};

function tooLarge(limit: number): never {
  throw new ValidationException(
    `the request body is larger than ${limit} bytes`,
  );
}

function unreadable(why: string): SerializationException {
  return new SerializationException(`the request body ${why}`);
}

/**
 * The request body, read only while it stays within `maxBytes` and arrives
 * within `timeoutMs`: a larger `Content-Length` is refused unread, and a
 * body is cut off as soon as it passes the limit or the deadline, so a slow
 * or silent client holds nothing for long.
 *
 * @throws {ValidationException} when the body is too large.
 * @throws {SerializationException} when the body cannot be read in full: the
 * client sent less than its `Content-Length`, closed its side early, or was
 * too slow; or the `Content-Length` is not a number.
 * @example
 * ```ts
 * const body = await readBody(request, 65536, 10_000);
 * ```
 */
export async function readBody(
  request: Request,
  maxBytes: number,
  timeoutMs: number,
): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (!/^\d+$/.test(declared)) {
      throw new SerializationException("Content-Length must be a number");
    }
    if (Number(declared) > maxBytes) tooLarge(maxBytes);
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(unreadable(`did not arrive within ${timeoutMs / 1000} s`));
      reader.cancel().catch(() => {});
    }, timeoutMs);
  });
  try {
    return await Promise.race([collect(reader, maxBytes), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function collect(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  maxBytes: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch {
        // Only the connection can fail a read: the client's doing.
        throw unreadable(
          "could not be read in full (it ended before its Content-Length, or the connection closed)",
        );
      }
      if (next.done) break;
      size += next.value.byteLength;
      if (size > maxBytes) {
        for (const chunk of chunks) chunk.fill(0);
        next.value.fill(0);
        tooLarge(maxBytes);
      }
      chunks.push(next.value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  }
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
    chunk.fill(0);
  }
  return body;
}

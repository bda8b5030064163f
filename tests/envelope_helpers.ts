/**
 * Helpers of the envelope tests: a keyring on a test Okms with two CMKs,
 * stream plumbing, and the frame layout of a message.
 * @module
 */
import { okmsKeyring } from "../lib/envelope/mod.ts";
import type { EnvelopeKeyring } from "../lib/envelope/mod.ts";
import { openTestOkms } from "./helpers.ts";

/** An in-process keyring and the ARNs of two CMKs of its account. */
export interface EnvelopeFixture extends AsyncDisposable {
  keyring: EnvelopeKeyring;
  arnA: string;
  arnB: string;
}

/** A test Okms with two keys; `await using` closes it. */
export async function openEnvelopeFixture(): Promise<EnvelopeFixture> {
  const t = await openTestOkms();
  const arnA = (await t.okms.createKey()).arn;
  const arnB = (await t.okms.createKey()).arn;
  return {
    keyring: okmsKeyring(t.okms),
    arnA,
    arnB,
    [Symbol.asyncDispose]: () => t[Symbol.asyncDispose](),
  };
}

/** `length` deterministic bytes. */
export function pattern(length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

/** A stream of `bytes` in chunks of the given sizes, cycled. */
export function chunked(
  bytes: Uint8Array,
  sizes: number[],
): ReadableStream<Uint8Array> {
  let at = 0, i = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      const size = sizes[i++ % sizes.length];
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

/** All of a stream's bytes. */
export async function collect(
  stream: ReadableStream<Uint8Array>,
): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Where the frames of an unsigned message of `messageLength` bytes start,
 * and where the last one ends, for `plaintextLength` bytes in frames of
 * `frameLength` (regular frames: 32 bytes around their content; the final
 * frame, which holds the last 1 to `frameLength` bytes, or none when the
 * message is empty: 40).
 */
export function frameOffsets(
  messageLength: number,
  plaintextLength: number,
  frameLength: number,
): number[] {
  const regular = Math.max(0, Math.ceil(plaintextLength / frameLength) - 1);
  const final = 40 + plaintextLength - regular * frameLength;
  const offsets = [messageLength - final - regular * (32 + frameLength)];
  for (let i = 0; i < regular; i++) offsets.push(offsets[i] + 32 + frameLength);
  offsets.push(messageLength);
  return offsets;
}

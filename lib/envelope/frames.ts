/**
 * Framed body: each frame is AES-256-GCM under the message key, its IV the
 * sequence number (big-endian, right-aligned in 12 bytes), its AAD the body
 * AAD:
 *
 * ```
 * message id(32) ‖ "AWSKMSEncryptionClient Frame" | "… Final Frame"
 * ‖ sequence number(4) ‖ content length(8)
 * regular frame: seq(4) ‖ IV(12) ‖ ciphertext(frame length) ‖ tag(16)
 * final frame:   FFFFFFFF ‖ seq(4) ‖ IV(12) ‖ length(4) ‖ ciphertext ‖ tag(16)
 * ```
 * Sequence numbers start at 1; the final frame holds 0 to frame length
 * bytes and is always there (an empty message is one empty final frame).
 * @module
 */
import { IV_BYTES, MESSAGE_ID_BYTES, TAG_BYTES } from "./suites.ts";
import { invalidMessage, putUint32 } from "./wire.ts";

const utf8 = new TextEncoder();
const REGULAR_LABEL = utf8.encode("AWSKMSEncryptionClient Frame");
const FINAL_LABEL = utf8.encode("AWSKMSEncryptionClient Final Frame");
const SEQUENCE_NUMBER_END = 0xffff_ffff;

/** The largest sequence number: `FFFFFFFF` marks the final frame. */
export const MAX_SEQUENCE_NUMBER = 0xffff_fffe;

/** Bytes of a regular frame around its content. */
export const REGULAR_OVERHEAD = 4 + IV_BYTES + TAG_BYTES;
/** Bytes of a final frame around its content. */
export const FINAL_OVERHEAD = 4 + 4 + IV_BYTES + 4 + TAG_BYTES;
const FINAL_PREFIX = 4 + 4 + IV_BYTES + 4;

function bodyAad(
  messageId: Uint8Array,
  final: boolean,
  sequenceNumber: number,
  contentLength: number,
): Uint8Array<ArrayBuffer> {
  const label = final ? FINAL_LABEL : REGULAR_LABEL;
  const aad = new Uint8Array(MESSAGE_ID_BYTES + label.length + 4 + 8);
  aad.set(messageId, 0);
  aad.set(label, MESSAGE_ID_BYTES);
  let at = putUint32(aad, MESSAGE_ID_BYTES + label.length, sequenceNumber);
  at = putUint32(aad, at, Math.floor(contentLength / 2 ** 32));
  putUint32(aad, at, contentLength >>> 0);
  return aad;
}

function frameIv(sequenceNumber: number): Uint8Array<ArrayBuffer> {
  const iv = new Uint8Array(IV_BYTES);
  putUint32(iv, IV_BYTES - 4, sequenceNumber);
  return iv;
}

/** The bytes of a frame holding `contentLength` bytes. */
export function frameSize(contentLength: number, final: boolean): number {
  return (final ? FINAL_OVERHEAD : REGULAR_OVERHEAD) + contentLength;
}

/**
 * Writes one frame into `out`, which is {@linkcode frameSize} bytes.
 *
 * @example
 * ```ts
 * const frame = new Uint8Array(frameSize(plaintext.length, true));
 * await encryptFrame(key, messageId, 1, plaintext, true, frame);
 * ```
 */
export async function encryptFrame(
  key: CryptoKey,
  messageId: Uint8Array,
  sequenceNumber: number,
  plaintext: Uint8Array<ArrayBuffer>,
  final: boolean,
  out: Uint8Array,
): Promise<void> {
  const iv = frameIv(sequenceNumber);
  let at = final ? putUint32(out, 0, SEQUENCE_NUMBER_END) : 0;
  at = putUint32(out, at, sequenceNumber);
  out.set(iv, at);
  at += IV_BYTES;
  if (final) at = putUint32(out, at, plaintext.length);
  const sealed = await crypto.subtle.encrypt(
    {
      name: "AES-GCM",
      iv,
      additionalData: bodyAad(
        messageId,
        final,
        sequenceNumber,
        plaintext.length,
      ),
    },
    key,
    plaintext,
  );
  out.set(new Uint8Array(sealed), at);
}

/** A frame's fields, its content still encrypted. */
export interface SealedFrame {
  final: boolean;
  sequenceNumber: number;
  iv: Uint8Array<ArrayBuffer>;
  /** Ciphertext and tag. */
  sealed: Uint8Array<ArrayBuffer>;
}

function uint32At(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) |
    bytes[at + 3]) >>> 0;
}

/** Whether the frame starting `bytes` is the final one (needs 4 bytes). */
function isFinal(bytes: Uint8Array): boolean {
  return uint32At(bytes, 0) === SEQUENCE_NUMBER_END;
}

/**
 * How many bytes of the frame at the front of `bytes` must be at hand to
 * go on: its whole length once that is known, else the prefix that tells it.
 *
 * @throws {InvalidCiphertextException} when a final frame claims more than
 * `frameLength` bytes.
 */
export function frameBytesNeeded(
  bytes: Uint8Array,
  frameLength: number,
): number {
  if (bytes.length < 4) return 4;
  if (!isFinal(bytes)) return REGULAR_OVERHEAD + frameLength;
  if (bytes.length < FINAL_PREFIX) return FINAL_PREFIX;
  const length = uint32At(bytes, FINAL_PREFIX - 4);
  if (length > frameLength) {
    throw invalidMessage("a final frame longer than the frame length");
  }
  return FINAL_OVERHEAD + length;
}

/** The fields of `frame`, which holds exactly one whole frame. */
export function readFrame(frame: Uint8Array<ArrayBuffer>): SealedFrame {
  const final = isFinal(frame);
  const at = final ? 4 : 0;
  return {
    final,
    sequenceNumber: uint32At(frame, at),
    iv: frame.subarray(at + 4, at + 4 + IV_BYTES),
    sealed: frame.subarray(final ? FINAL_PREFIX : 4 + IV_BYTES),
  };
}

/**
 * A frame's plaintext, only once its tag is verified.
 *
 * @throws {InvalidCiphertextException} when the tag does not match (the
 * frame, its place or the message it belongs to was altered).
 */
export async function decryptFrame(
  key: CryptoKey,
  messageId: Uint8Array,
  frame: SealedFrame,
): Promise<Uint8Array<ArrayBuffer>> {
  const contentLength = frame.sealed.length - TAG_BYTES;
  try {
    const plaintext = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: frame.iv,
        additionalData: bodyAad(
          messageId,
          frame.final,
          frame.sequenceNumber,
          contentLength,
        ),
      },
      key,
      frame.sealed,
    );
    return new Uint8Array(plaintext);
  } catch {
    throw invalidMessage(
      `frame ${frame.sequenceNumber} was altered (its tag does not match)`,
    );
  }
}

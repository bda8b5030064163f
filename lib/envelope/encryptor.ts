/**
 * Writes one message a piece at a time: the header first, then frames as
 * plaintext arrives (a full frame is held back until more plaintext shows
 * it is not the last, so the final frame is never empty unless the
 * message is), then the final frame and, for the signed suite, the footer.
 * It holds at most one frame of plaintext.
 * @module
 */
import type { EncryptionContext } from "../encryption_context.ts";
import { ValidationException } from "../errors.ts";
import { FramePipeline } from "./frame_pipeline.ts";
import { encryptFrame, frameSize, MAX_SEQUENCE_NUMBER } from "./frames.ts";
import { serializeHeaderBody } from "./header.ts";
import type { EnvelopeKeyring } from "./keyring.ts";
import { wrapDataKey } from "./kms_data_keys.ts";
import { deriveMessageKeys, headerAuthTag } from "./message_keys.ts";
import { MessageSigner } from "./signature.ts";
import {
  DEFAULT_FRAME_LENGTH,
  MAX_FRAME_LENGTH,
  MESSAGE_ID_BYTES,
  PUBLIC_KEY_CONTEXT_KEY,
  RESERVED_CONTEXT_PREFIX,
  SUITE_COMMIT_KEY,
  SUITE_COMMIT_KEY_ECDSA_P384,
} from "./suites.ts";
import { concatBytes } from "./wire.ts";

/** How to encrypt a message. */
export interface EncryptOptions {
  /**
   * The CMKs (ids, aliases or ARNs) that can each decrypt the message: the
   * first generates the data key, the others encrypt it too.
   */
  keyIds: string[];
  /** Non-secret pairs bound to the message, stored in its header. */
  encryptionContext?: EncryptionContext;
  /** Plaintext bytes per frame, 1 to 2^32 - 1 (default 4096). */
  frameLength?: number;
  /**
   * The `AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384` suite: an ECDSA
   * signature proves the message was written by whoever held its private
   * key, not by anyone able to decrypt (default: unsigned).
   */
  signed?: boolean;
}

function checkOptions(options: EncryptOptions): number {
  const frameLength = options.frameLength ?? DEFAULT_FRAME_LENGTH;
  if (
    !Number.isInteger(frameLength) || frameLength < 1 ||
    frameLength > MAX_FRAME_LENGTH
  ) {
    throw new ValidationException(
      `frameLength must be an integer from 1 to ${MAX_FRAME_LENGTH}`,
    );
  }
  for (const key of Object.keys(options.encryptionContext ?? {})) {
    if (key.startsWith(RESERVED_CONTEXT_PREFIX)) {
      throw new ValidationException(
        `Encryption context keys starting with "${RESERVED_CONTEXT_PREFIX}" are reserved`,
      );
    }
  }
  return frameLength;
}

/** The writing of one message. */
export class MessageEncryptor {
  readonly #key: CryptoKey;
  readonly #messageId: Uint8Array;
  readonly #frameLength: number;
  readonly #signer: MessageSigner | undefined;
  readonly #pending: Uint8Array<ArrayBuffer>;
  #pendingLength = 0;
  #sequenceNumber = 1;

  private constructor(
    key: CryptoKey,
    messageId: Uint8Array,
    frameLength: number,
    signer: MessageSigner | undefined,
  ) {
    this.#key = key;
    this.#messageId = messageId;
    this.#frameLength = frameLength;
    this.#signer = signer;
    this.#pending = new Uint8Array(frameLength);
  }

  /**
   * Starts a message: makes its data key (KMS calls), derives its keys and
   * returns the encryptor and the header bytes.
   *
   * @example
   * ```ts
   * const { encryptor, header } = await MessageEncryptor.start(keyring, { keyIds: [arn] });
   * const out = [header, await encryptor.write(plaintext), ...await encryptor.finish()];
   * ```
   */
  static async start(
    keyring: EnvelopeKeyring,
    options: EncryptOptions,
  ): Promise<{ encryptor: MessageEncryptor; header: Uint8Array }> {
    const frameLength = checkOptions(options);
    const signer = options.signed ? await MessageSigner.create() : undefined;
    const encryptionContext = signer
      ? {
        ...options.encryptionContext,
        [PUBLIC_KEY_CONTEXT_KEY]: signer.publicKey,
      }
      : { ...options.encryptionContext };
    const suiteId = signer ? SUITE_COMMIT_KEY_ECDSA_P384 : SUITE_COMMIT_KEY;
    const { dataKey, encryptedDataKeys } = await wrapDataKey(
      keyring,
      options.keyIds,
      encryptionContext,
    );
    const messageId = crypto.getRandomValues(new Uint8Array(MESSAGE_ID_BYTES));
    const { key, commitment } = await deriveMessageKeys(
      dataKey,
      messageId,
      suiteId,
    );
    const body = serializeHeaderBody({
      suiteId,
      messageId,
      encryptionContext,
      encryptedDataKeys,
      frameLength,
      commitment,
    });
    const header = concatBytes([body, await headerAuthTag(key, body)]);
    signer?.update(header);
    return {
      encryptor: new MessageEncryptor(key, messageId, frameLength, signer),
      header,
    };
  }

  /** The frames that `plaintext` completes (none, one or more), in one buffer. */
  async write(plaintext: Uint8Array): Promise<Uint8Array> {
    const pieces: Uint8Array<ArrayBuffer>[] = [];
    /** Copies of plaintext this object made: zeroed once encrypted. */
    let copied: Uint8Array<ArrayBuffer> | undefined;
    const length = this.#frameLength;
    let at = 0;
    if (this.#pendingLength > 0) {
      at = Math.min(length - this.#pendingLength, plaintext.length);
      this.#pending.set(plaintext.subarray(0, at), this.#pendingLength);
      this.#pendingLength += at;
      if (this.#pendingLength === length && at < plaintext.length) {
        copied = this.#pending.slice();
        pieces.push(copied);
        this.#pending.fill(0, 0, this.#pendingLength);
        this.#pendingLength = 0;
      }
    }
    // Whole frames straight from the input, while more input follows them.
    for (; plaintext.length - at > length; at += length) {
      pieces.push(
        plaintext.subarray(at, at + length) as Uint8Array<ArrayBuffer>,
      );
    }
    this.#pending.set(plaintext.subarray(at), this.#pendingLength);
    this.#pendingLength += plaintext.length - at;
    const size = frameSize(length, false);
    const frames = new Uint8Array(pieces.length * size);
    const pipeline = new FramePipeline<void>(() => {});
    for (const [i, piece] of pieces.entries()) {
      const out = frames.subarray(i * size, (i + 1) * size);
      await pipeline.add(this.#frame(piece, false, out));
    }
    await pipeline.drain();
    copied?.fill(0);
    this.#signer?.update(frames);
    return frames;
  }

  /** The final frame and, when signed, the footer. */
  async finish(): Promise<Uint8Array[]> {
    const plaintext = this.#pending.subarray(0, this.#pendingLength);
    const final = new Uint8Array(frameSize(plaintext.length, true));
    await this.#frame(plaintext, true, final);
    plaintext.fill(0);
    this.#pendingLength = 0;
    this.#signer?.update(final);
    return this.#signer ? [final, this.#signer.footer()] : [final];
  }

  #frame(
    plaintext: Uint8Array<ArrayBuffer>,
    final: boolean,
    out: Uint8Array,
  ): Promise<void> {
    const sequenceNumber = this.#sequenceNumber++;
    if (sequenceNumber > MAX_SEQUENCE_NUMBER) {
      throw new ValidationException(
        "The message would have more frames than the format allows: use a larger frameLength",
      );
    }
    return encryptFrame(
      this.#key,
      this.#messageId,
      sequenceNumber,
      plaintext,
      final,
      out,
    );
  }
}

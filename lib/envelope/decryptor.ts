/**
 * Reads one message a piece at a time, in whatever pieces it arrives: the
 * header (then the KMS call, the commitment and the header auth tag), then
 * each frame, checked for its place (sequence numbers from 1, in order,
 * exactly one final frame, last) and decrypted only as a whole, so no
 * plaintext leaves before its frame's tag is verified; then the footer of
 * the signed suite. {@linkcode MessageDecryptor.finish} says whether the
 * message was whole. It holds at most one frame (or the header) of input,
 * and a bounded number of frames being decrypted.
 * @module
 */
import type { EncryptionContext } from "../encryption_context.ts";
import { FramePipeline } from "./frame_pipeline.ts";
import {
  decryptFrame,
  frameBytesNeeded,
  readFrame,
  type SealedFrame,
} from "./frames.ts";
import { parseHeader } from "./header.ts";
import type { EnvelopeKeyring } from "./keyring.ts";
import { kmsKeyArns, unwrapDataKey } from "./kms_data_keys.ts";
import { committedMessageKeys, verifyHeaderAuthTag } from "./message_keys.ts";
import { MessageVerifier } from "./signature.ts";
import { isSignedSuite, PUBLIC_KEY_CONTEXT_KEY } from "./suites.ts";
import { invalidMessage } from "./wire.ts";

/** How to decrypt a message. */
export interface DecryptOptions {
  /**
   * Pairs the message's encryption context must hold (it may hold more), as
   * the SDK's required encryption context.
   */
  encryptionContext?: EncryptionContext;
  /**
   * Strict mode: only data keys under these CMK ARNs are tried. Without it
   * every `aws-kms` data key is tried (discovery).
   */
  allowedKeyIds?: string[];
  /** Refuse headers with more encrypted data keys than this (default 65535). */
  maxEncryptedDataKeys?: number;
}

/** What a header told, once it checked out. */
export interface DecryptedHeader {
  /** The message's whole encryption context. */
  encryptionContext: Record<string, string>;
  /** The ARNs of the CMKs the message's data keys are under, in order. */
  keyIds: string[];
  /** Whether the message is signed (its signature is checked at the end). */
  signed: boolean;
}

/** The biggest header a stream may buffer (all 16-bit lengths at most). */
const MAX_HEADER_BYTES = 1 << 24;
const EMPTY = new Uint8Array(0) as Uint8Array<ArrayBuffer>;

function checkRequiredContext(
  message: Record<string, string>,
  required: EncryptionContext | undefined,
): void {
  for (const [key, value] of Object.entries(required ?? {})) {
    if (!Object.hasOwn(message, key) || message[key] !== value) {
      throw invalidMessage(
        `its encryption context does not hold the required "${key}" pair`,
      );
    }
  }
}

type Stage = "header" | "frames" | "footer" | "done";

/** The reading of one message. */
export class MessageDecryptor {
  readonly #keyring: EnvelopeKeyring;
  readonly #options: DecryptOptions;
  /** Called once the header checked out, before any plaintext. */
  readonly #onHeader: (header: DecryptedHeader) => void;
  /** Hands each frame's plaintext on, in order, once its tag verified. */
  readonly #frames: FramePipeline<Uint8Array>;
  #stage: Stage = "header";
  /** The input held back (a frame, header or footer begun), at its start. */
  #held: Uint8Array<ArrayBuffer> = EMPTY;
  #heldLength = 0;
  #key: CryptoKey | undefined;
  #messageId: Uint8Array = EMPTY;
  #frameLength = 0;
  #sequenceNumber = 1;
  #verifier: MessageVerifier | undefined;

  /**
   * @example
   * ```ts
   * const parts: Uint8Array[] = [];
   * const decryptor = new MessageDecryptor(keyring, {}, (p) => parts.push(p));
   * await decryptor.write(message);
   * await decryptor.finish();
   * ```
   */
  constructor(
    keyring: EnvelopeKeyring,
    options: DecryptOptions,
    onPlaintext: (plaintext: Uint8Array) => void,
    onHeader: (header: DecryptedHeader) => void = () => {},
  ) {
    this.#keyring = keyring;
    this.#options = options;
    this.#frames = new FramePipeline(onPlaintext);
    this.#onHeader = onHeader;
  }

  /**
   * Reads `bytes`, starting the decryption of the frames they complete;
   * returns once few enough frames are left in flight. A failed frame
   * throws here or in a later call.
   */
  async write(bytes: Uint8Array): Promise<void> {
    let input = bytes as Uint8Array<ArrayBuffer>;
    if (this.#stage === "header") {
      input = await this.#header(input);
      if (this.#stage === "header") return;
    }
    if (this.#stage !== "frames") {
      this.#hold(input);
      this.#checkAfterFrames();
      return;
    }
    const frames = this.#takeFrames(input);
    if (this.#stage !== "frames") this.#checkAfterFrames();
    for (const frame of frames) {
      await this.#frames.add(decryptFrame(this.#key!, this.#messageId, frame));
    }
  }

  /**
   * Ends the message: checks that it was whole and, when signed, its
   * signature.
   *
   * @throws {InvalidCiphertextException} when it was truncated or the
   * signature does not match.
   */
  async finish(): Promise<void> {
    await this.#frames.drain();
    if (this.#stage === "footer") this.#checkFooter(true);
    if (this.#stage !== "done") {
      throw invalidMessage(
        this.#stage === "header"
          ? "it ends inside its header"
          : "it ends before its final frame (truncated)",
      );
    }
  }

  async #header(
    input: Uint8Array<ArrayBuffer>,
  ): Promise<Uint8Array<ArrayBuffer>> {
    let bytes = input;
    if (this.#heldLength > 0) {
      this.#hold(input);
      bytes = this.#heldBytes();
    }
    const parsed = parseHeader(bytes, this.#options.maxEncryptedDataKeys);
    if (parsed === undefined) {
      if (bytes.length > MAX_HEADER_BYTES) {
        throw invalidMessage("a header too large");
      }
      if (bytes === input) this.#hold(input);
      return EMPTY;
    }
    const { header, body, authTag, length } = parsed;
    const context = header.encryptionContext;
    checkRequiredContext(context, this.#options.encryptionContext);
    const signed = isSignedSuite(header.suiteId);
    const publicKey = context[PUBLIC_KEY_CONTEXT_KEY];
    if (signed !== (publicKey !== undefined)) {
      throw invalidMessage(
        signed
          ? "a signed message without its public key"
          : "an unsigned message with a public key",
      );
    }
    const verifier = signed ? new MessageVerifier(publicKey) : undefined;
    const dataKey = await unwrapDataKey(
      this.#keyring,
      header.encryptedDataKeys,
      context,
      this.#options.allowedKeyIds,
    );
    const key = await committedMessageKeys(
      dataKey,
      header.messageId,
      header.suiteId,
      header.commitment,
    );
    await verifyHeaderAuthTag(key, body, authTag);
    verifier?.update(bytes.subarray(0, length));
    this.#key = key;
    this.#verifier = verifier;
    this.#messageId = header.messageId.slice();
    this.#frameLength = header.frameLength;
    this.#onHeader({
      encryptionContext: context,
      keyIds: kmsKeyArns(header.encryptedDataKeys),
      signed,
    });
    this.#stage = "frames";
    this.#release();
    return bytes.subarray(length);
  }

  /**
   * The whole frames now at hand, their places checked; holds the rest. A
   * frame begun earlier is completed in `#held` first; the frames after it
   * are taken straight from `input`.
   */
  #takeFrames(input: Uint8Array<ArrayBuffer>): SealedFrame[] {
    const frames: SealedFrame[] = [];
    let at = 0;
    while (this.#heldLength > 0 && at < input.length) {
      const need = frameBytesNeeded(this.#heldBytes(), this.#frameLength);
      const take = Math.min(need - this.#heldLength, input.length - at);
      this.#hold(input.subarray(at, at + take));
      at += take;
      const held = this.#heldBytes();
      if (held.length === frameBytesNeeded(held, this.#frameLength)) {
        frames.push(this.#frame(held));
        this.#release();
      }
    }
    while (this.#stage === "frames" && at < input.length) {
      const rest = input.subarray(at);
      const need = frameBytesNeeded(rest, this.#frameLength);
      if (need > rest.length) break;
      frames.push(this.#frame(rest.subarray(0, need)));
      at += need;
    }
    this.#hold(input.subarray(at));
    return frames;
  }

  #frame(bytes: Uint8Array<ArrayBuffer>): SealedFrame {
    if (this.#stage !== "frames") {
      throw invalidMessage("bytes after its final frame");
    }
    const frame = readFrame(bytes);
    if (frame.sequenceNumber !== this.#sequenceNumber) {
      throw invalidMessage(
        `frame ${frame.sequenceNumber} where frame ${this.#sequenceNumber} belongs (reordered, dropped or repeated)`,
      );
    }
    this.#sequenceNumber++;
    this.#verifier?.update(bytes);
    if (frame.final) this.#stage = this.#verifier ? "footer" : "done";
    return frame;
  }

  /** The input held back, as a view. */
  #heldBytes(): Uint8Array<ArrayBuffer> {
    return this.#held.subarray(0, this.#heldLength);
  }

  /**
   * Holds `bytes` (copied: input chunks are not kept) after what is held,
   * growing the buffer at least twofold, so input arriving in small pieces
   * is copied a bounded number of times over.
   */
  #hold(bytes: Uint8Array): void {
    const length = this.#heldLength + bytes.length;
    if (length > this.#held.length) {
      const grown = new Uint8Array(Math.max(length, 2 * this.#held.length));
      grown.set(this.#heldBytes());
      this.#held = grown;
    }
    this.#held.set(bytes, this.#heldLength);
    this.#heldLength = length;
  }

  /** Hands the held buffer over (to a frame or the header): a new one follows. */
  #release(): void {
    this.#held = EMPTY;
    this.#heldLength = 0;
  }

  /** Checks what is held after the final frame: the footer so far, or nothing. */
  #checkAfterFrames(): void {
    if (this.#heldLength === 0) return;
    if (this.#stage !== "footer") throw invalidMessage("bytes after its end");
    this.#checkFooter(false);
  }

  /** Checks the footer once it is whole; `atEnd`: it must be. */
  #checkFooter(atEnd: boolean): void {
    const footer = this.#heldBytes();
    const length = footer.length >= 2 ? (footer[0] << 8) | footer[1] : -1;
    if (length < 0 || footer.length < 2 + length) {
      if (atEnd) {
        throw invalidMessage("it ends inside its signature (truncated)");
      }
      return;
    }
    if (footer.length > 2 + length) {
      throw invalidMessage("bytes after its signature");
    }
    if (atEnd) {
      this.#verifier!.check(footer.subarray(2));
      this.#stage = "done";
    }
  }
}

/**
 * Messages of any size as web streams, in bounded memory: about one frame
 * plus the chunk being read. Both are `TransformStream`s; each awaits its
 * work before taking the next chunk, so a slow reader slows the writer.
 * @module
 */
import {
  type DecryptedHeader,
  type DecryptOptions,
  MessageDecryptor,
} from "./decryptor.ts";
import { type EncryptOptions, MessageEncryptor } from "./encryptor.ts";
import type { EnvelopeKeyring } from "./keyring.ts";
import { invalidMessage } from "./wire.ts";

/**
 * A stream that encrypts the plaintext written to it into one AWS
 * Encryption SDK message. The KMS calls happen before the first byte out.
 *
 * @example
 * ```ts
 * const file = await Deno.open("backup.tar");
 * const out = await Deno.open("backup.tar.enc", { write: true, create: true });
 * await file.readable
 *   .pipeThrough(encryptStream(keyring, { keyIds: ["alias/files"] }))
 *   .pipeTo(out.writable);
 * ```
 */
export function encryptStream(
  keyring: EnvelopeKeyring,
  options: EncryptOptions,
): TransformStream<Uint8Array, Uint8Array> {
  let encryptor: MessageEncryptor;
  return new TransformStream({
    async start(controller) {
      const started = await MessageEncryptor.start(keyring, options);
      encryptor = started.encryptor;
      controller.enqueue(started.header);
    },
    async transform(chunk, controller) {
      const frames = await encryptor.write(chunk);
      if (frames.length > 0) controller.enqueue(frames);
    },
    async flush(controller) {
      for (const part of await encryptor.finish()) controller.enqueue(part);
    },
  });
}

/** How to decrypt a stream. */
export interface DecryptStreamOptions extends DecryptOptions {
  /**
   * Refuse signed messages (the SDK's `decryptUnsignedMessageStream`): a
   * signed message's signature can only be checked at its end, after its
   * frames' plaintext went out.
   */
  unsignedOnly?: boolean;
  /** Told the message's context and CMKs once its header checked out. */
  onHeader?: (header: DecryptedHeader) => void;
}

/**
 * A stream that decrypts one AWS Encryption SDK message written to it.
 * Each frame's plaintext goes out once that frame's tag is verified, never
 * before; a damaged, reordered or truncated message errors the stream at
 * the first bad frame (or at the end), so the plaintext read so far must
 * not be trusted as whole until the stream closes without error.
 *
 * A signed message is as the SDK's `decryptStream` treats it: frames go
 * out as they verify, and the signature is checked at the end, where a bad
 * one errors the stream. To refuse signed messages instead, set
 * `unsignedOnly` (the SDK's `decryptUnsignedMessageStream`); to have
 * nothing before the signature checks, use `decryptMessage`.
 *
 * @example
 * ```ts
 * await (await Deno.open("backup.tar.enc")).readable
 *   .pipeThrough(decryptStream(keyring, { encryptionContext: { purpose: "backup" } }))
 *   .pipeTo((await Deno.open("backup.tar", { write: true, create: true })).writable);
 * ```
 */
export function decryptStream(
  keyring: EnvelopeKeyring,
  options: DecryptStreamOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  let decryptor: MessageDecryptor;
  return new TransformStream({
    start(controller) {
      decryptor = new MessageDecryptor(
        keyring,
        options,
        (plaintext) => controller.enqueue(plaintext),
        (header) => {
          if (options.unsignedOnly && header.signed) {
            throw invalidMessage(
              "it is signed, and only unsigned messages are read",
            );
          }
          options.onHeader?.(header);
        },
      );
    },
    transform: (chunk) => decryptor.write(chunk),
    flush: () => decryptor.finish(),
  });
}

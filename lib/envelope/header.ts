/**
 * The message header (format version 2): what it holds, its bytes, and a
 * parser that checks every length against the bytes actually there.
 *
 * ```
 * version(1)=02 ‖ suite(2) ‖ message id(32) ‖ AAD length(2) ‖ AAD
 * ‖ EDK count(2) ‖ EDKs ‖ content type(1)=02 ‖ frame length(4)
 * ‖ commitment(32) ‖ header auth tag(16)
 * ```
 * An EDK is three UInt16-length-prefixed fields: provider id, provider
 * info, ciphertext. The auth tag (AES-GCM under the derived key, IV all
 * zeroes, the header before it as AAD) is written and checked by
 * `message_keys.ts`.
 * @module
 */
import { parseContext, serializeContext } from "./context_codec.ts";
import {
  COMMITMENT_BYTES,
  CONTENT_TYPE_FRAMED,
  isSupportedSuite,
  MESSAGE_FORMAT_VERSION,
  MESSAGE_ID_BYTES,
  TAG_BYTES,
} from "./suites.ts";
import {
  ByteReader,
  concatBytes,
  IncompleteInput,
  invalidMessage,
  putUint16,
  putUint32,
} from "./wire.ts";

/** A data key encrypted by one master key, as the header stores it. */
export interface EncryptedDataKey {
  providerId: string;
  providerInfo: Uint8Array;
  ciphertext: Uint8Array;
}

/** The fields of a header (its auth tag aside). */
export interface MessageHeader {
  suiteId: number;
  messageId: Uint8Array;
  encryptionContext: Record<string, string>;
  encryptedDataKeys: EncryptedDataKey[];
  frameLength: number;
  /** The commitment key (the "algorithm suite data"). */
  commitment: Uint8Array;
}

/** A header read off the front of a message. */
export interface ParsedHeader {
  header: MessageHeader;
  /** The header's bytes before its auth tag (the tag's AAD). */
  body: Uint8Array<ArrayBuffer>;
  authTag: Uint8Array<ArrayBuffer>;
  /** Bytes taken from the message, auth tag included. */
  length: number;
}

const utf8 = new TextEncoder();

function lengthPrefixed(bytes: Uint8Array, what: string): Uint8Array[] {
  if (bytes.length > 0xffff) throw new RangeError(`${what} over 65535 bytes`);
  const length = new Uint8Array(2);
  putUint16(length, 0, bytes.length);
  return [length, bytes];
}

/**
 * The header's bytes before its auth tag.
 *
 * @throws {ValidationException} when the context is not valid.
 * @example
 * ```ts
 * const body = serializeHeaderBody(header);
 * const tag = await keys.headerAuthTag(body);
 * ```
 */
export function serializeHeaderBody(
  header: MessageHeader,
): Uint8Array<ArrayBuffer> {
  const aad = serializeContext(header.encryptionContext);
  const fixed = new Uint8Array(1 + 2 + MESSAGE_ID_BYTES);
  fixed[0] = MESSAGE_FORMAT_VERSION;
  putUint16(fixed, 1, header.suiteId);
  fixed.set(header.messageId, 3);
  const keyCount = new Uint8Array(2);
  putUint16(keyCount, 0, header.encryptedDataKeys.length);
  const framing = new Uint8Array(1 + 4);
  framing[0] = CONTENT_TYPE_FRAMED;
  putUint32(framing, 1, header.frameLength);
  return concatBytes([
    fixed,
    ...lengthPrefixed(aad, "the encryption context"),
    keyCount,
    ...header.encryptedDataKeys.flatMap((key) => [
      ...lengthPrefixed(utf8.encode(key.providerId), "a provider id"),
      ...lengthPrefixed(key.providerInfo, "a provider info"),
      ...lengthPrefixed(key.ciphertext, "an encrypted data key"),
    ]),
    framing,
    header.commitment,
  ]);
}

/**
 * The header at the front of `bytes`, or `undefined` when `bytes` ends
 * before the header does (a stream: read more; a whole message: truncated).
 *
 * @throws {InvalidCiphertextException} when what is there is not a
 * version-2 header of a supported suite, or has more than
 * `maxEncryptedDataKeys` encrypted data keys.
 */
export function parseHeader(
  bytes: Uint8Array<ArrayBuffer>,
  maxEncryptedDataKeys = 0xffff,
): ParsedHeader | undefined {
  const reader = new ByteReader(bytes);
  try {
    const version = reader.uint8();
    if (version !== MESSAGE_FORMAT_VERSION) {
      throw invalidMessage(
        `message format version ${version} (only 2, with key commitment, is read)`,
      );
    }
    const suiteId = reader.uint16();
    if (!isSupportedSuite(suiteId)) {
      throw invalidMessage(`algorithm suite 0x${suiteId.toString(16)}`);
    }
    const messageId = reader.bytes(MESSAGE_ID_BYTES);
    const encryptionContext = parseContext(reader.lengthPrefixed());
    const keyCount = reader.uint16();
    if (keyCount === 0) throw invalidMessage("no encrypted data keys");
    if (keyCount > maxEncryptedDataKeys) {
      throw invalidMessage(
        `${keyCount} encrypted data keys, more than the ${maxEncryptedDataKeys} allowed`,
      );
    }
    const encryptedDataKeys: EncryptedDataKey[] = [];
    for (let i = 0; i < keyCount; i++) {
      encryptedDataKeys.push({
        providerId: reader.utf8("a provider id"),
        providerInfo: reader.lengthPrefixed(),
        ciphertext: reader.lengthPrefixed(),
      });
    }
    const contentType = reader.uint8();
    if (contentType !== CONTENT_TYPE_FRAMED) {
      throw invalidMessage(`content type ${contentType} (only framed is read)`);
    }
    const frameLength = reader.uint32();
    if (frameLength === 0) throw invalidMessage("a frame length of 0");
    const commitment = reader.bytes(COMMITMENT_BYTES);
    const bodyLength = reader.offset;
    const authTag = reader.bytes(TAG_BYTES);
    return {
      header: {
        suiteId,
        messageId,
        encryptionContext,
        encryptedDataKeys,
        frameLength,
        commitment,
      },
      body: bytes.subarray(0, bodyLength),
      authTag,
      length: reader.offset,
    };
  } catch (error) {
    if (error instanceof IncompleteInput) return undefined;
    throw error;
  }
}

/**
 * The encryption context in a message header: the SDK's serialization,
 * `count(u16) ‖ (len(u16) ‖ key ‖ len(u16) ‖ value)*`, pairs sorted by the
 * UTF-8 bytes of their keys; an empty context is no bytes at all. It is the
 * canonical encoding okms already binds to KMS ciphertexts
 * (`lib/encryption_context.ts`), so writing reuses it.
 * @module
 */
import { encodeEncryptionContext } from "../encryption_context.ts";
import { ByteReader, IncompleteInput, invalidMessage } from "./wire.ts";

export { encodeEncryptionContext as serializeContext };

/**
 * The context in `bytes` (the header's AAD field, all of it).
 *
 * @throws {InvalidCiphertextException} when the pairs do not fill `bytes`
 * exactly, a key repeats, or a key or value is not UTF-8.
 */
export function parseContext(
  bytes: Uint8Array<ArrayBuffer>,
): Record<string, string> {
  const context: Record<string, string> = Object.create(null);
  if (bytes.length === 0) return context;
  const reader = new ByteReader(bytes);
  try {
    const count = reader.uint16();
    if (count === 0) throw invalidMessage("an encryption context of no pairs");
    for (let i = 0; i < count; i++) {
      const key = reader.utf8("an encryption context key");
      const value = reader.utf8("an encryption context value");
      if (Object.hasOwn(context, key)) {
        throw invalidMessage("a repeated encryption context key");
      }
      context[key] = value;
    }
  } catch (error) {
    if (error instanceof IncompleteInput) {
      throw invalidMessage("the encryption context overruns its length");
    }
    throw error;
  }
  if (reader.offset !== bytes.length) {
    throw invalidMessage("bytes after the encryption context");
  }
  return { ...context };
}

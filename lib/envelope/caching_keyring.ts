/**
 * Data-key caching, the AWS Encryption SDK's caching idea: encrypting many
 * small messages reuses one data key for a bounded age, number of messages
 * and number of bytes instead of calling GenerateDataKey for each.
 * @module
 */
import {
  encodeEncryptionContext,
  type EncryptionContext,
} from "../encryption_context.ts";
import type { EnvelopeDataKey, EnvelopeKeyring } from "./keyring.ts";

/** How long and how much one data key may serve. */
export interface CacheLimits {
  /** A data key serves messages for at most this long after it was made. */
  maxAgeMs: number;
  /** At most this many messages per data key; 2^32 by default, as the SDK. */
  maxMessages?: number;
  /** At most this many plaintext bytes per data key; 2^53 - 1 by default. */
  maxBytes?: number;
  /** At most this many data keys kept at once, oldest evicted first; 64. */
  maxEntries?: number;
  /** The clock, epoch milliseconds; `Date.now` by default. */
  now?: () => number;
}

/**
 * The caching keyring: a keyring per message, since a data key's limits
 * count messages and their bytes, which a KMS call alone cannot know.
 */
export interface CachingKeyring extends Disposable {
  /**
   * The keyring to encrypt one message of `plaintextBytes` bytes under
   * `keyIds` (as given to the encryption, first key first). A message of
   * unknown length (`Infinity`) is never served from the cache, as the
   * SDK's caching CMM bypasses its cache without a plaintext length.
   * Decrypt calls pass through to the inner keyring.
   */
  forMessage(
    keyIds: readonly string[],
    plaintextBytes: number,
  ): EnvelopeKeyring;
  /** Forgets and zeroes every cached data key. */
  clear(): void;
}

/** One cached data key and what it has served. */
interface Entry {
  key: EnvelopeDataKey;
  /** Its encryptions under the message's other CMKs, by key id. */
  others: Map<string, { keyId: string; ciphertextBlob: Uint8Array }>;
  expiresAt: number;
  messages: number;
  bytes: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i]);
}

/**
 * Wraps `inner` so that messages under the same key ids and encryption
 * context share a data key within `limits`. Never across different key ids
 * (whoever can decrypt one message could read the others) or contexts.
 * A signed message's context holds its own public key, so signed messages
 * never share. Every message gets its own copy of the plaintext data key
 * (to zero after use, as from any keyring); the cached copy is zeroed when
 * evicted, expired, used up, cleared or disposed.
 *
 * @example
 * ```ts
 * using cache = cachingKeyring(remoteKeyring(settings), { maxAgeMs: 60_000, maxMessages: 1000 });
 * const message = await encryptMessage(cache.forMessage(["alias/logs"], line.byteLength), line, {
 *   keyIds: ["alias/logs"],
 * });
 * ```
 */
export function cachingKeyring(
  inner: EnvelopeKeyring,
  limits: CacheLimits,
): CachingKeyring {
  const now = limits.now ?? Date.now;
  const maxMessages = limits.maxMessages ?? 2 ** 32;
  const maxBytes = limits.maxBytes ?? Number.MAX_SAFE_INTEGER;
  const maxEntries = limits.maxEntries ?? 64;
  const entries = new Map<string, Entry>();

  const evict = (id: string) => {
    entries.get(id)?.key.plaintext.fill(0);
    entries.delete(id);
  };
  const sweep = () => {
    const time = now();
    for (const [id, entry] of entries) {
      if (entry.expiresAt <= time || entry.messages >= maxMessages) evict(id);
    }
  };
  /** The entry for one more message of `bytes`, charged, if one may serve it. */
  const take = (id: string, bytes: number): Entry | undefined => {
    sweep();
    const entry = entries.get(id);
    if (entry === undefined || entry.bytes + bytes > maxBytes) return undefined;
    entry.messages++;
    entry.bytes += bytes;
    return entry;
  };
  const store = (id: string, key: EnvelopeDataKey, bytes: number) => {
    evict(id);
    entries.set(id, {
      key, // the cache's own now: zeroed when evicted
      others: new Map(),
      expiresAt: now() + limits.maxAgeMs,
      messages: 1,
      bytes,
    });
    while (entries.size > maxEntries) evict(entries.keys().next().value!);
    return entries.get(id)!;
  };

  return {
    forMessage(keyIds, plaintextBytes) {
      const cacheable = plaintextBytes <= maxBytes && maxMessages > 0;
      const idOf = (context: EncryptionContext) =>
        JSON.stringify([keyIds, encodeEncryptionContext(context).toHex()]);
      let used: { entry: Entry; context: string } | undefined;
      return {
        async generateDataKey(keyId, encryptionContext) {
          if (!cacheable || keyId !== keyIds[0]) {
            return await inner.generateDataKey(keyId, encryptionContext);
          }
          const id = idOf(encryptionContext);
          const entry = take(id, plaintextBytes) ??
            store(
              id,
              await inner.generateDataKey(keyId, encryptionContext),
              plaintextBytes,
            );
          used = { entry, context: id };
          return { ...entry.key, plaintext: entry.key.plaintext.slice() };
        },
        async encrypt(keyId, plaintext, encryptionContext) {
          if (
            used !== undefined && !keyIds.includes(keyId) &&
            sameBytes(used.entry.key.plaintext, plaintext)
          ) {
            // The cached key would become readable with a CMK the cache was
            // not asked for, in this message and every later one sharing it.
            throw new Error(
              `the message names CMK ${keyId}, which its cached data key was not made for: pass every key id to forMessage`,
            );
          }
          const entry = used?.context === idOf(encryptionContext) &&
              keyIds.includes(keyId) &&
              sameBytes(used.entry.key.plaintext, plaintext)
            ? used.entry
            : undefined;
          const cached = entry?.others.get(keyId);
          if (cached !== undefined) return cached;
          const result = await inner.encrypt(
            keyId,
            plaintext,
            encryptionContext,
          );
          entry?.others.set(keyId, result);
          return result;
        },
        decrypt: (keyId, ciphertextBlob, encryptionContext) =>
          inner.decrypt(keyId, ciphertextBlob, encryptionContext),
      };
    },
    clear() {
      for (const id of [...entries.keys()]) evict(id);
    },
    [Symbol.dispose]() {
      this.clear();
    },
  };
}

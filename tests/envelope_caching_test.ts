/**
 * The caching keyring over a counting fake keyring: each limit (age on an
 * injected clock, messages, bytes, entries), separation by context and key
 * ids, copies handed out, and zeroing of what it evicts.
 */
import assert from "node:assert/strict";
import { cachingKeyring } from "../lib/envelope/caching_keyring.ts";
import { decryptMessage, encryptMessage } from "../lib/envelope/mod.ts";
import type {
  EnvelopeDataKey,
  EnvelopeKeyring,
} from "../lib/envelope/keyring.ts";

/** A keyring that makes numbered data keys and counts its calls. */
function fakeKeyring() {
  const made: EnvelopeDataKey[] = [];
  const calls = { generate: 0, encrypt: 0 };
  const keyring: EnvelopeKeyring = {
    generateDataKey(keyId) {
      calls.generate++;
      const key = {
        keyId,
        plaintext: new Uint8Array(32).fill(made.length + 1),
        ciphertextBlob: new Uint8Array(32).fill(made.length + 1), // "encrypted"
      };
      made.push(key);
      return Promise.resolve(key);
    },
    encrypt(keyId, plaintext) {
      calls.encrypt++;
      return Promise.resolve({ keyId, ciphertextBlob: plaintext.slice() });
    },
    decrypt(keyId, ciphertextBlob) {
      return Promise.resolve({ keyId, plaintext: ciphertextBlob.slice() });
    },
  };
  return { keyring, made, calls };
}

const A = "arn:aws:kms:eu-west-2:111122223333:key/a";
const B = "arn:aws:kms:eu-west-2:111122223333:key/b";

Deno.test("a cached data key serves within its age", async () => {
  let now = 1000;
  const { keyring, calls } = fakeKeyring();
  using cache = cachingKeyring(keyring, { maxAgeMs: 500, now: () => now });
  const first = await cache.forMessage([A], 10).generateDataKey(A, {});
  now += 499;
  const second = await cache.forMessage([A], 10).generateDataKey(A, {});
  assert.equal(calls.generate, 1);
  assert.deepEqual(second, first);
  assert.notEqual(second.plaintext, first.plaintext, "each message its copy");
  now += 1;
  await cache.forMessage([A], 10).generateDataKey(A, {});
  assert.equal(calls.generate, 2, "expired at maxAgeMs");
});

Deno.test("at most maxMessages messages per data key", async () => {
  const { keyring, calls } = fakeKeyring();
  using cache = cachingKeyring(keyring, { maxAgeMs: 60_000, maxMessages: 3 });
  for (let i = 0; i < 7; i++) {
    await cache.forMessage([A], 1).generateDataKey(A, {});
  }
  assert.equal(calls.generate, 3); // 3 + 3 + 1
});

Deno.test("at most maxBytes plaintext bytes per data key", async () => {
  const { keyring, calls } = fakeKeyring();
  using cache = cachingKeyring(keyring, { maxAgeMs: 60_000, maxBytes: 100 });
  await cache.forMessage([A], 60).generateDataKey(A, {});
  await cache.forMessage([A], 40).generateDataKey(A, {});
  assert.equal(calls.generate, 1, "60 + 40 fits 100");
  await cache.forMessage([A], 1).generateDataKey(A, {});
  assert.equal(calls.generate, 2, "one more byte does not");
  await cache.forMessage([A], 101).generateDataKey(A, {});
  await cache.forMessage([A], Infinity).generateDataKey(A, {});
  await cache.forMessage([A], 1).generateDataKey(A, {});
  assert.equal(calls.generate, 4, "too big or unknown: not cached, no harm");
});

Deno.test("never across contexts or key ids", async () => {
  const { keyring, calls } = fakeKeyring();
  using cache = cachingKeyring(keyring, { maxAgeMs: 60_000 });
  const use = (keyIds: string[], context: Record<string, string>) =>
    cache.forMessage(keyIds, 1).generateDataKey(keyIds[0], context);
  const one = await use([A], { tenant: "x" });
  assert.notDeepEqual(
    (await use([A], { tenant: "y" })).plaintext,
    one.plaintext,
  );
  assert.notDeepEqual((await use([A], {})).plaintext, one.plaintext);
  assert.notDeepEqual(
    (await use([A, B], { tenant: "x" })).plaintext,
    one.plaintext,
  );
  assert.notDeepEqual(
    (await use([B], { tenant: "x" })).plaintext,
    one.plaintext,
  );
  // The canonical encoding tells {"a":"bc"} from {"ab":"c"}.
  await use([A], { a: "bc" });
  await use([A], { ab: "c" });
  assert.equal(calls.generate, 7);
  assert.deepEqual((await use([A], { tenant: "x" })).plaintext, one.plaintext);
  assert.equal(calls.generate, 7);
});

Deno.test("a message's other CMKs are cached with its data key", async () => {
  const { keyring, calls } = fakeKeyring();
  using cache = cachingKeyring(keyring, { maxAgeMs: 60_000 });
  for (let i = 0; i < 3; i++) {
    const view = cache.forMessage([A, B], 1);
    const key = await view.generateDataKey(A, {});
    await view.encrypt(B, key.plaintext, {});
    key.plaintext.fill(0); // as the encryption does after use
  }
  assert.deepEqual(calls, { generate: 1, encrypt: 1 });
  // A keyring view for other key ids does not reuse them.
  const view = cache.forMessage([A], 1);
  await view.encrypt(B, new Uint8Array(32).fill(1), {});
  assert.equal(calls.encrypt, 2);
});

Deno.test("evicted data keys are zeroed", async () => {
  let now = 0;
  const { keyring, made } = fakeKeyring();
  const cache = cachingKeyring(keyring, {
    maxAgeMs: 100,
    maxEntries: 2,
    now: () => now,
  });
  const use = (context: Record<string, string>) =>
    cache.forMessage([A], 1).generateDataKey(A, context);
  await use({ n: "1" });
  await use({ n: "2" });
  await use({ n: "3" });
  const zero = new Uint8Array(32);
  assert.deepEqual(
    made[0].plaintext,
    zero,
    "the oldest of three, over maxEntries",
  );
  assert.notDeepEqual(made[1].plaintext, zero);
  now = 100;
  await use({ n: "4" });
  assert.deepEqual(made[1].plaintext, zero, "expired");
  assert.deepEqual(made[2].plaintext, zero, "expired");
  cache[Symbol.dispose]();
  assert.deepEqual(made[3].plaintext, zero, "disposed");
});

Deno.test("messages sealed through the cache open without it", async () => {
  const { keyring, calls } = fakeKeyring();
  using cache = cachingKeyring(keyring, { maxAgeMs: 60_000 });
  const context = { purpose: "logs" };
  const lines = ["one", "two", "three"].map((line) =>
    new TextEncoder().encode(line)
  );
  const messages = [];
  for (const line of lines) {
    messages.push(
      await encryptMessage(cache.forMessage([A, B], line.byteLength), line, {
        keyIds: [A, B],
        encryptionContext: context,
      }),
    );
  }
  assert.deepEqual(calls, { generate: 1, encrypt: 1 });
  for (const [i, message] of messages.entries()) {
    const opened = await decryptMessage(keyring, message, {
      encryptionContext: context,
    });
    assert.deepEqual(opened.plaintext, lines[i]);
  }
});

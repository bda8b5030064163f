/**
 * Envelope messages in process (an Okms on a SoftHSM2 token): round trips
 * of both suites and many sizes, several CMKs and strict mode, and every
 * kind of damage refused: each single byte changed, truncation, frames
 * reordered, dropped or repeated, bytes appended, a wrong context.
 */
import assert from "node:assert/strict";
import { decryptMessage, encryptMessage } from "../lib/envelope/mod.ts";
import type { EnvelopeKeyring } from "../lib/envelope/mod.ts";
import {
  frameOffsets,
  openEnvelopeFixture,
  pattern,
} from "./envelope_helpers.ts";
import { utf8 } from "./helpers.ts";

const CONTEXT = { purpose: "backup", tenant: "acme" };

async function rejectsInvalid(promise: Promise<unknown>, what: string) {
  await assert.rejects(promise, (error: Error) => {
    assert.equal(
      error.name,
      "InvalidCiphertextException",
      `${what}: ${error.message}`,
    );
    return true;
  }, what);
}

/** A keyring that counts Decrypt calls (to see a check come before KMS). */
function counting(keyring: EnvelopeKeyring) {
  const counts = { decrypt: 0 };
  return {
    counts,
    keyring: {
      ...keyring,
      decrypt(...args: Parameters<EnvelopeKeyring["decrypt"]>) {
        counts.decrypt++;
        return keyring.decrypt(...args);
      },
    } satisfies EnvelopeKeyring,
  };
}

Deno.test("envelope messages round-trip and refuse any damage", async (t) => {
  await using f = await openEnvelopeFixture();
  const { keyring, arnA, arnB } = f;

  for (const signed of [false, true]) {
    await t.step(`round trips, ${signed ? "signed" : "unsigned"}`, async () => {
      const cases: [number, number][] = [
        [0, 4096], // empty: one empty final frame
        [1, 4096],
        [4096, 4096], // exactly one frame
        [4097, 4096],
        [3 * 4096, 4096], // an exact multiple: the final frame is full
        [10, 1],
        [100_000, 4096],
        [(1 << 20) + 5, 1 << 20],
      ];
      for (const [length, frameLength] of cases) {
        const plaintext = pattern(length);
        const message = await encryptMessage(keyring, plaintext, {
          keyIds: [arnA],
          encryptionContext: CONTEXT,
          frameLength,
          signed,
        });
        assert.equal(message[0], 0x02);
        assert.equal((message[1] << 8) | message[2], signed ? 0x0578 : 0x0478);
        const out = await decryptMessage(keyring, message, {
          encryptionContext: { tenant: "acme" },
        });
        assert.deepEqual(out.plaintext, plaintext, `${length}/${frameLength}`);
        assert.deepEqual(out.keyIds, [arnA]);
        const { "aws-crypto-public-key": publicKey, ...rest } =
          out.encryptionContext;
        assert.deepEqual(rest, CONTEXT);
        assert.equal(publicKey !== undefined, signed);
        if (signed) assert.match(publicKey, /^[A-Za-z0-9+/]{66}==$/);
      }
    });
  }

  await t.step("the frame layout is the spec's", async () => {
    const message = await encryptMessage(keyring, pattern(10), {
      keyIds: [arnA],
      frameLength: 4,
    });
    const offsets = frameOffsets(message.length, 10, 4);
    const view = new DataView(message.buffer);
    assert.equal(view.getUint32(offsets[0]), 1);
    assert.deepEqual(
      message.subarray(offsets[0] + 4, offsets[0] + 16),
      new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    );
    assert.equal(view.getUint32(offsets[1]), 2);
    assert.equal(view.getUint32(offsets[2]), 0xffff_ffff);
    assert.equal(view.getUint32(offsets[2] + 4), 3);
    assert.equal(view.getUint32(offsets[2] + 20), 2);
  });

  await t.step(
    "several CMKs: each decrypts; strict mode tries only its own",
    async () => {
      const message = await encryptMessage(keyring, utf8("two keys"), {
        keyIds: [arnA, arnB],
        encryptionContext: CONTEXT,
      });
      for (const allowed of [[arnA], [arnB], [arnB, arnA]]) {
        const { counts, keyring: k } = counting(keyring);
        const out = await decryptMessage(k, message, {
          allowedKeyIds: allowed,
        });
        assert.equal(new TextDecoder().decode(out.plaintext), "two keys");
        assert.deepEqual(out.keyIds, [arnA, arnB]);
        // Only a data key under an allowed CMK is sent to KMS.
        assert.equal(counts.decrypt, 1);
      }
      await assert.rejects(
        decryptMessage(keyring, message, {
          // Another key's ARN: A's with its last hex digit changed.
          allowedKeyIds: [arnA.slice(0, -1) + (arnA.endsWith("0") ? "1" : "0")],
        }),
        { name: "IncorrectKeyException" },
      );
      await rejectsInvalid(
        decryptMessage(keyring, message, { maxEncryptedDataKeys: 1 }),
        "more data keys than allowed",
      );
    },
  );

  await t.step(
    "a wrong or missing required context pair is refused before KMS",
    async () => {
      const message = await encryptMessage(keyring, utf8("ctx"), {
        keyIds: [arnA],
        encryptionContext: CONTEXT,
      });
      const wrong: Record<string, string>[] = [{ tenant: "other" }, {
        absent: "x",
      }];
      for (const required of wrong) {
        const { counts, keyring: k } = counting(keyring);
        await rejectsInvalid(
          decryptMessage(k, message, { encryptionContext: required }),
          JSON.stringify(required),
        );
        assert.equal(counts.decrypt, 0);
      }
      await assert.rejects(
        encryptMessage(keyring, utf8("x"), {
          keyIds: [arnA],
          encryptionContext: { "aws-crypto-public-key": "mine" },
        }),
        { name: "ValidationException" },
      );
    },
  );

  for (const signed of [false, true]) {
    await t.step(
      `every single-byte change fails, ${signed ? "signed" : "unsigned"}`,
      async () => {
        const message = await encryptMessage(keyring, pattern(20), {
          keyIds: [arnA],
          encryptionContext: { a: "b" },
          frameLength: 8,
          signed,
        });
        const failures = await Promise.all(
          Array.from(message, async (_, i) => {
            const altered = message.slice();
            altered[i] ^= 0x01;
            try {
              await decryptMessage(keyring, altered);
              return `byte ${i}: decrypted`;
            } catch (error) {
              // Bytes of the KMS ciphertext blob fail in KMS itself.
              const ok = [
                "InvalidCiphertextException",
                "IncorrectKeyException",
                "NotFoundException",
              ]
                .includes((error as Error).name);
              return ok ? undefined : `byte ${i}: ${(error as Error).name}`;
            }
          }),
        );
        assert.deepEqual(failures.filter((f) => f), []);
      },
    );
  }

  await t.step(
    "truncation anywhere, frames reordered, dropped or repeated, bytes appended",
    async () => {
      const plaintext = pattern(20);
      const message = await encryptMessage(keyring, plaintext, {
        keyIds: [arnA],
        frameLength: 8,
      });
      const offsets = frameOffsets(message.length, 20, 8);
      for (let end = 0; end < message.length; end++) {
        await rejectsInvalid(
          decryptMessage(keyring, message.subarray(0, end)),
          `cut at ${end}`,
        );
      }
      const [header, f1, f2, final] = [0, 1, 2, 3].map((i) =>
        message.subarray(i === 0 ? 0 : offsets[i - 1], offsets[i])
      );
      const splice = (...parts: Uint8Array[]) => {
        const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
        return out;
      };
      const variants: Record<string, Uint8Array> = {
        reordered: splice(header, f2, f1, final),
        "first dropped": splice(header, f2, final),
        "middle dropped": splice(header, f1, final),
        "final dropped": splice(header, f1, f2),
        repeated: splice(header, f1, f1, f2, final),
        "final repeated": splice(header, f1, f2, final, final),
        "a byte appended": splice(message, new Uint8Array(1)),
      };
      for (const [what, bytes] of Object.entries(variants)) {
        await rejectsInvalid(decryptMessage(keyring, bytes), what);
      }
      const other = await encryptMessage(keyring, plaintext, {
        keyIds: [arnA],
        frameLength: 8,
      });
      await rejectsInvalid(
        decryptMessage(keyring, splice(header, other.subarray(offsets[0]))),
        "frames of another message",
      );
    },
  );
});

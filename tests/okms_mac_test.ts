/**
 * GenerateMac and VerifyMac with HMAC keys in SoftHSM2. The key never
 * leaves the HSM, so no known-answer test (nor a comparison with
 * node:crypto's HMAC) can be made: instead, MACs are deterministic, as long
 * as their hash, verify, differ between keys and fail when tampered with.
 */
import assert from "node:assert/strict";
import type { KeySpec, MacAlgorithm } from "../lib/asymmetric/key_specs.ts";
import type { Okms } from "../mod.ts";
import { openTestOkms, rejectsNamed, utf8 } from "./helpers.ts";

/** Asymmetric and HMAC keys need wrapped material (whatever the suite's mode). */
const WRAPPED = { keyMaterial: "wrapped" } as const;

const HMACS: [KeySpec, MacAlgorithm, number][] = [
  ["HMAC_224", "HMAC_SHA_224", 28],
  ["HMAC_256", "HMAC_SHA_256", 32],
  ["HMAC_384", "HMAC_SHA_384", 48],
  ["HMAC_512", "HMAC_SHA_512", 64],
];

async function hmacKey(okms: Okms, keySpec: KeySpec): Promise<string> {
  const key = await okms.createKey({
    keySpec,
    keyUsage: "GENERATE_VERIFY_MAC",
  });
  return key.keyId;
}

/** A copy of `bytes` with its first byte changed. */
function tampered(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = bytes.slice();
  copy[0] ^= 1;
  return copy;
}

Deno.test("GenerateMac and VerifyMac with every HMAC spec", async (t) => {
  await using fixture = await openTestOkms(WRAPPED);
  const { okms } = fixture;
  const message = utf8("order 42: 100 EUR");
  for (const [keySpec, macAlgorithm, length] of HMACS) {
    await t.step(keySpec, async () => {
      const keyId = await hmacKey(okms, keySpec);
      const metadata = await okms.describeKey({ keyId });
      assert.deepEqual(metadata.macAlgorithms, [macAlgorithm]);
      assert.equal(metadata.keyUsage, "GENERATE_VERIFY_MAC");
      const input = { keyId, message, macAlgorithm };
      const first = await okms.generateMac(input);
      assert.equal(first.keyId, metadata.arn);
      assert.equal(first.macAlgorithm, macAlgorithm);
      assert.equal(first.mac.byteLength, length);
      assert.deepEqual((await okms.generateMac(input)).mac, first.mac);
      assert.deepEqual(await okms.verifyMac({ ...input, mac: first.mac }), {
        keyId: metadata.arn,
        macValid: true,
        macAlgorithm,
      });
      const other = await okms.generateMac({
        ...input,
        keyId: await hmacKey(okms, keySpec),
      });
      assert.notDeepEqual(other.mac, first.mac, "another key, another MAC");
      const longer = new Uint8Array(first.mac.byteLength + 1);
      longer.set(first.mac);
      for (
        const bad of [
          { ...input, mac: tampered(first.mac) },
          { ...input, mac: first.mac.subarray(1) },
          { ...input, mac: longer },
          { ...input, mac: other.mac },
          { ...input, message: tampered(message), mac: first.mac },
        ]
      ) {
        const error = await rejectsNamed(
          okms.verifyMac(bad),
          "KMSInvalidMacException",
        );
        assert.equal((error as { keyArn?: string }).keyArn, metadata.arn);
      }
    });
  }
});

Deno.test("GenerateMac and VerifyMac refuse bad input", async (t) => {
  await using fixture = await openTestOkms(WRAPPED);
  const { okms } = fixture;
  const keyId = await hmacKey(okms, "HMAC_256");
  const generate = (input: Record<string, unknown>) =>
    okms.generateMac(
      {
        keyId,
        message: utf8("m"),
        macAlgorithm: "HMAC_SHA_256",
        ...input,
      } as Parameters<Okms["generateMac"]>[0],
    );

  await t.step("an algorithm the key does not take", async () => {
    await rejectsNamed(
      generate({ macAlgorithm: "HMAC_SHA_512" }),
      "InvalidKeyUsageException",
    );
    await rejectsNamed(
      generate({ macAlgorithm: "HMAC_MD5" }),
      "ValidationException",
    );
  });

  await t.step("message and MAC sizes", async () => {
    await generate({ message: new Uint8Array(4096) });
    for (const message of [new Uint8Array(4097), new Uint8Array(0)]) {
      await rejectsNamed(generate({ message }), "ValidationException");
    }
    for (const mac of [new Uint8Array(0), new Uint8Array(6145)]) {
      await rejectsNamed(
        okms.verifyMac({
          keyId,
          message: utf8("m"),
          mac,
          macAlgorithm: "HMAC_SHA_256",
        }),
        "ValidationException",
      );
    }
  });

  await t.step("keys of another usage", async () => {
    const symmetric = (await okms.createKey()).keyId;
    const signing = (await okms.createKey({
      keySpec: "ECC_NIST_P256",
      keyUsage: "SIGN_VERIFY",
    })).keyId;
    for (const other of [symmetric, signing]) {
      await rejectsNamed(
        generate({ keyId: other }),
        "InvalidKeyUsageException",
      );
    }
    for (
      const call of [
        () => okms.encrypt({ keyId, plaintext: utf8("secret") }),
        () =>
          okms.sign({
            keyId,
            message: utf8("m"),
            signingAlgorithm: "ECDSA_SHA_256",
          }),
      ]
    ) {
      await rejectsNamed(call(), "InvalidKeyUsageException");
    }
  });

  await t.step("a disabled key", async () => {
    const { mac } = await generate({});
    await okms.disableKey({ keyId });
    await rejectsNamed(generate({}), "DisabledException");
    await rejectsNamed(
      okms.verifyMac({
        keyId,
        message: utf8("m"),
        mac,
        macAlgorithm: "HMAC_SHA_256",
      }),
      "DisabledException",
    );
    await okms.enableKey({ keyId });
    await generate({});
  });
});

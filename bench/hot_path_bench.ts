/**
 * In-process benchmarks of okms's hot path: Encrypt, Decrypt and the data
 * key operations through the KMS-shaped API and the SubtleCrypto face, each
 * group against its floor (the same PKCS#11 calls straight through `ffi/`),
 * with software WebCrypto AES-256-GCM and envelope use of a data key for
 * reference. Run with `deno task bench`.
 * @module
 */
import { HEADER_BYTES } from "../lib/ciphertext_blob.ts";
import { encodeEncryptionContext } from "../lib/encryption_context.ts";
import { FfiFloor } from "./ffi_floor.ts";
import { openBenchFixture } from "./fixture.ts";

/** Iterations and warmup of the HSM-bound benchmarks (about 20 µs each). */
const HSM_RUN = { n: 20_000, warmup: 2_000 } as const;
/** Iterations and warmup of the 1 MiB envelope benchmarks. */
const MIB_RUN = { n: 400, warmup: 40 } as const;
const MIB = 1 << 20;

const fixture = await openBenchFixture();
globalThis.addEventListener("unload", () => fixture.close());
const { okms, key, floorHsm } = fixture;

const context = { purpose: "benchmark", tenant: "acme" } as const;
const gcm = { name: "AES-GCM", encryptionContext: context } as const;
const aadBytes = HEADER_BYTES + encodeEncryptionContext(context).byteLength;
const floor = new FfiFloor(floorHsm, aadBytes);

const software = await crypto.subtle.generateKey(
  { name: "AES-GCM", length: 256 },
  false,
  ["encrypt", "decrypt"],
);
const softwareParams: AesGcmParams = {
  name: "AES-GCM",
  iv: crypto.getRandomValues(new Uint8Array(12)),
  additionalData: crypto.getRandomValues(new Uint8Array(aadBytes)),
};

for (const size of [32, 4096]) {
  const plaintext = crypto.getRandomValues(new Uint8Array(size));
  const encryptGroup = `encrypt ${size} B`;
  Deno.bench({
    name: `ffi floor: C_EncryptInit + C_Encrypt`,
    group: encryptGroup,
    baseline: true,
    ...HSM_RUN,
    fn: floor.encryptor(size),
  });
  Deno.bench({
    name: "okms.encrypt (KMS API)",
    group: encryptGroup,
    ...HSM_RUN,
    async fn() {
      await okms.encrypt({
        keyId: key.keyId,
        plaintext,
        encryptionContext: context,
      });
    },
  });
  Deno.bench({
    name: "okms.subtle.encrypt (SubtleCrypto face)",
    group: encryptGroup,
    ...HSM_RUN,
    async fn() {
      await okms.subtle.encrypt(gcm, key, plaintext);
    },
  });
  Deno.bench({
    name: "reference: WebCrypto AES-256-GCM in software",
    group: encryptGroup,
    ...HSM_RUN,
    async fn() {
      await crypto.subtle.encrypt(softwareParams, software, plaintext);
    },
  });

  const { ciphertextBlob } = await okms.encrypt({
    keyId: key.keyId,
    plaintext,
    encryptionContext: context,
  });
  const subtleSealed = await okms.subtle.encrypt(gcm, key, plaintext);
  const softwareSealed = await crypto.subtle.encrypt(
    softwareParams,
    software,
    plaintext,
  );
  const decryptGroup = `decrypt ${size} B`;
  Deno.bench({
    name: "ffi floor: C_DecryptInit + C_Decrypt",
    group: decryptGroup,
    baseline: true,
    ...HSM_RUN,
    fn: floor.decryptor(size),
  });
  Deno.bench({
    name: "okms.decrypt (KMS API)",
    group: decryptGroup,
    ...HSM_RUN,
    async fn() {
      await okms.decrypt({ ciphertextBlob, encryptionContext: context });
    },
  });
  Deno.bench({
    name: "okms.subtle.decrypt (SubtleCrypto face)",
    group: decryptGroup,
    ...HSM_RUN,
    async fn() {
      await okms.subtle.decrypt(gcm, key, subtleSealed);
    },
  });
  Deno.bench({
    name: "reference: WebCrypto AES-256-GCM in software",
    group: decryptGroup,
    ...HSM_RUN,
    async fn() {
      await crypto.subtle.decrypt(softwareParams, software, softwareSealed);
    },
  });
}

const dataKeyInput = {
  keyId: key.keyId,
  keySpec: "AES_256",
  encryptionContext: context,
} as const;

Deno.bench({
  name: "ffi floor: C_GenerateRandom(32) + C_EncryptInit + C_Encrypt",
  group: "GenerateDataKey AES_256",
  baseline: true,
  ...HSM_RUN,
  fn: floor.dataKeyGenerator(32),
});
Deno.bench({
  name: "okms.generateDataKey (KMS API)",
  group: "GenerateDataKey AES_256",
  ...HSM_RUN,
  async fn() {
    using _dataKey = await okms.generateDataKey(dataKeyInput);
  },
});
Deno.bench({
  name: "okms.generateDataKey + toCryptoKey (SubtleCrypto hand-off)",
  group: "GenerateDataKey AES_256",
  ...HSM_RUN,
  async fn() {
    using dataKey = await okms.generateDataKey(dataKeyInput);
    await dataKey.toCryptoKey();
  },
});

Deno.bench({
  name: "ffi floor: C_GenerateRandom(32) + C_EncryptInit + C_Encrypt",
  group: "GenerateDataKeyWithoutPlaintext AES_256",
  baseline: true,
  ...HSM_RUN,
  fn: floor.dataKeyGenerator(32),
});
Deno.bench({
  name: "okms.generateDataKeyWithoutPlaintext (KMS API)",
  group: "GenerateDataKeyWithoutPlaintext AES_256",
  ...HSM_RUN,
  async fn() {
    await okms.generateDataKeyWithoutPlaintext(dataKeyInput);
  },
});

const file = new Uint8Array(MIB).fill(0x5a);
const fileIv = crypto.getRandomValues(new Uint8Array(12));
const envelopeKey = await okms.generateDataKey(dataKeyInput);
const envelopeAes = await envelopeKey.toCryptoKey();

Deno.bench({
  name: "crypto.subtle.encrypt 1 MiB (key already imported)",
  group: "envelope: 1 MiB under a data key",
  baseline: true,
  ...MIB_RUN,
  async fn() {
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: fileIv },
      envelopeAes,
      file,
    );
  },
});
Deno.bench({
  name: "toCryptoKey() + crypto.subtle.encrypt 1 MiB",
  group: "envelope: 1 MiB under a data key",
  ...MIB_RUN,
  async fn() {
    const aes = await envelopeKey.toCryptoKey();
    await crypto.subtle.encrypt({ name: "AES-GCM", iv: fileIv }, aes, file);
  },
});
Deno.bench({
  name: "generateDataKey + toCryptoKey() + encrypt 1 MiB (whole envelope)",
  group: "envelope: 1 MiB under a data key",
  ...MIB_RUN,
  async fn() {
    using dataKey = await okms.generateDataKey(dataKeyInput);
    const aes = await dataKey.toCryptoKey();
    await crypto.subtle.encrypt({ name: "AES-GCM", iv: fileIv }, aes, file);
  },
});

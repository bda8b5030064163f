/**
 * In-process benchmarks of okms's hot path: Encrypt, Decrypt and the data
 * key operations through the KMS-shaped API (in both key material modes)
 * and the SubtleCrypto face, each group against its floor (the same PKCS#11
 * calls straight through `ffi/`, on a session key as wrapped mode uses and
 * on a token key as token mode does), with software WebCrypto AES-256-GCM
 * and envelope use of a data key for reference. Run with `deno task bench`.
 * @module
 */
import { HEADER_BYTES } from "../lib/ciphertext_blob.ts";
import { encodeEncryptionContext } from "../lib/encryption_context.ts";
import type { KeyMaterialMode } from "../lib/metadata_store.ts";
import { FfiFloor, type FloorOperation } from "./ffi_floor.ts";
import { openBenchFixture } from "./fixture.ts";

/** Iterations and warmup of the HSM-bound benchmarks (about 10-20 µs each). */
const HSM_RUN = { n: 20_000, warmup: 2_000 } as const;
/** Iterations and warmup of the 1 MiB envelope benchmarks. */
const MIB_RUN = { n: 400, warmup: 40 } as const;
const MIB = 1 << 20;
const MODES: readonly KeyMaterialMode[] = ["wrapped", "token"];

const fixture = await openBenchFixture();
globalThis.addEventListener("unload", () => fixture.close());
const { okms, key } = fixture.modes.wrapped;

const context = { purpose: "benchmark", tenant: "acme" } as const;
const gcm = { name: "AES-GCM", encryptionContext: context } as const;
const aadBytes = HEADER_BYTES + encodeEncryptionContext(context).byteLength;
const floors = {
  wrapped: new FfiFloor(fixture.floorHsm, aadBytes, "wrapped"),
  token: new FfiFloor(fixture.floorHsm, aadBytes, "token"),
};

/** The group's two floors: a session key (the baseline) and a token key. */
function floorBenches(
  group: string,
  calls: string,
  operation: (floor: FfiFloor) => FloorOperation,
): void {
  for (const mode of MODES) {
    Deno.bench({
      name: `ffi floor, ${
        mode === "wrapped" ? "session" : "token"
      } key: ${calls}`,
      group,
      baseline: mode === "wrapped",
      ...HSM_RUN,
      fn: operation(floors[mode]),
    });
  }
}

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
  floorBenches(
    encryptGroup,
    "C_EncryptInit + C_Encrypt",
    (floor) => floor.encryptor(size),
  );
  for (const mode of MODES) {
    const { okms, key } = fixture.modes[mode];
    Deno.bench({
      name: `okms.encrypt (KMS API), ${mode}`,
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
  }
  Deno.bench({
    name: "okms.subtle.encrypt (SubtleCrypto face), wrapped",
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

  const decryptGroup = `decrypt ${size} B`;
  floorBenches(
    decryptGroup,
    "C_DecryptInit + C_Decrypt",
    (floor) => floor.decryptor(size),
  );
  for (const mode of MODES) {
    const { okms, key } = fixture.modes[mode];
    const { ciphertextBlob } = await okms.encrypt({
      keyId: key.keyId,
      plaintext,
      encryptionContext: context,
    });
    Deno.bench({
      name: `okms.decrypt (KMS API), ${mode}`,
      group: decryptGroup,
      ...HSM_RUN,
      async fn() {
        await okms.decrypt({ ciphertextBlob, encryptionContext: context });
      },
    });
  }
  const subtleSealed = await okms.subtle.encrypt(gcm, key, plaintext);
  Deno.bench({
    name: "okms.subtle.decrypt (SubtleCrypto face), wrapped",
    group: decryptGroup,
    ...HSM_RUN,
    async fn() {
      await okms.subtle.decrypt(gcm, key, subtleSealed);
    },
  });
  const softwareSealed = await crypto.subtle.encrypt(
    softwareParams,
    software,
    plaintext,
  );
  Deno.bench({
    name: "reference: WebCrypto AES-256-GCM in software",
    group: decryptGroup,
    ...HSM_RUN,
    async fn() {
      await crypto.subtle.decrypt(softwareParams, software, softwareSealed);
    },
  });
}

const dataKeyInput = (mode: KeyMaterialMode) =>
  ({
    keyId: fixture.modes[mode].key.keyId,
    keySpec: "AES_256",
    encryptionContext: context,
  }) as const;
const dataKeyCalls = "C_GenerateRandom(32) + C_EncryptInit + C_Encrypt";

floorBenches(
  "GenerateDataKey AES_256",
  dataKeyCalls,
  (floor) => floor.dataKeyGenerator(32),
);
for (const mode of MODES) {
  const { okms } = fixture.modes[mode];
  const input = dataKeyInput(mode);
  Deno.bench({
    name: `okms.generateDataKey (KMS API), ${mode}`,
    group: "GenerateDataKey AES_256",
    ...HSM_RUN,
    async fn() {
      using _dataKey = await okms.generateDataKey(input);
    },
  });
}
Deno.bench({
  name: "okms.generateDataKey + toCryptoKey (SubtleCrypto hand-off), wrapped",
  group: "GenerateDataKey AES_256",
  ...HSM_RUN,
  async fn() {
    using dataKey = await okms.generateDataKey(dataKeyInput("wrapped"));
    await dataKey.toCryptoKey();
  },
});

floorBenches(
  "GenerateDataKeyWithoutPlaintext AES_256",
  dataKeyCalls,
  (floor) => floor.dataKeyGenerator(32),
);
for (const mode of MODES) {
  const { okms } = fixture.modes[mode];
  const input = dataKeyInput(mode);
  Deno.bench({
    name: `okms.generateDataKeyWithoutPlaintext (KMS API), ${mode}`,
    group: "GenerateDataKeyWithoutPlaintext AES_256",
    ...HSM_RUN,
    async fn() {
      await okms.generateDataKeyWithoutPlaintext(input);
    },
  });
}

const file = new Uint8Array(MIB).fill(0x5a);
const fileIv = crypto.getRandomValues(new Uint8Array(12));
const envelopeKey = await okms.generateDataKey(dataKeyInput("wrapped"));
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
    using dataKey = await okms.generateDataKey(dataKeyInput("wrapped"));
    const aes = await dataKey.toCryptoKey();
    await crypto.subtle.encrypt({ name: "AES-GCM", iv: fileIv }, aes, file);
  },
});

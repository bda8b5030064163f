/**
 * In-process benchmarks of signing and MACs: `okms.sign` (ECDSA P-256,
 * RSA-2048 PKCS#1 v1.5) and `okms.generateMac` (HMAC-SHA-256), each against
 * its floor, the same PKCS#11 call (`C_SignInit` + `C_Sign`) straight
 * through `ffi/` on a session key of the same spec, with the digest made
 * beforehand. okms adds key lookup, the state check, hashing a RAW message
 * and the DER encoding of ECDSA signatures; its DIGEST row leaves the hash
 * out. Run with `deno task bench`.
 * @module
 */
import { SIGNING_MECHANISMS } from "../lib/asymmetric/algorithms.ts";
import {
  generateHmacKey,
  generateKeyPair,
} from "../lib/asymmetric/key_generation.ts";
import type { KeySpec, SigningAlgorithm } from "../lib/asymmetric/key_specs.ts";
import { CKM } from "../ffi/mod.ts";
import { openBenchFixture } from "./fixture.ts";

/** Iterations and warmup: signatures cost 30 µs (ECDSA) to 1 ms (RSA). */
const RUN = { n: 2_000, warmup: 200 } as const;

const fixture = await openBenchFixture();
globalThis.addEventListener("unload", () => fixture.close());
const { okms } = fixture.modes.wrapped;
const hsm = fixture.floorHsm;
const message = crypto.getRandomValues(new Uint8Array(256));
const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", message));
const inSession = { token: false, toWrap: false };

/** The floor and okms benchmarks of one signing spec and algorithm. */
async function signingGroup(spec: KeySpec, algorithm: SigningAlgorithm) {
  const group = `Sign ${spec} ${algorithm}`;
  const { mechanism, digestInfo } = SIGNING_MECHANISMS[algorithm]!;
  const pair = generateKeyPair(hsm, spec, "SIGN_VERIFY", inSession);
  hsm.destroy(pair.publicKey);
  const signed = digestInfo === undefined
    ? digest
    : Uint8Array.from([...digestInfo, ...digest]);
  Deno.bench({
    name: "ffi floor, session key: C_SignInit + C_Sign of a digest",
    group,
    baseline: true,
    ...RUN,
    fn: () => {
      hsm.sign(mechanism, pair.privateKey, signed);
    },
  });
  const { keyId } = await okms.createKey({
    keySpec: spec,
    keyUsage: "SIGN_VERIFY",
  });
  for (const messageType of ["RAW", "DIGEST"] as const) {
    const input = {
      keyId,
      message: messageType === "RAW" ? message : digest,
      messageType,
      signingAlgorithm: algorithm,
    };
    Deno.bench({
      name: `okms.sign (KMS API), ${messageType} ${
        messageType === "RAW" ? `${message.length} B` : "SHA-256"
      }`,
      group,
      ...RUN,
      async fn() {
        await okms.sign(input);
      },
    });
  }
}

await signingGroup("ECC_NIST_P256", "ECDSA_SHA_256");
await signingGroup("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256");

const macGroup = "GenerateMac HMAC_256 HMAC_SHA_256";
const macKey = generateHmacKey(hsm, "HMAC_256", inSession);
Deno.bench({
  name: "ffi floor, session key: C_SignInit + C_Sign",
  group: macGroup,
  baseline: true,
  ...RUN,
  fn: () => {
    hsm.sign(CKM.SHA256_HMAC, macKey, message);
  },
});
const { keyId: macKeyId } = await okms.createKey({
  keySpec: "HMAC_256",
  keyUsage: "GENERATE_VERIFY_MAC",
});
Deno.bench({
  name: `okms.generateMac (KMS API), ${message.length} B`,
  group: macGroup,
  ...RUN,
  async fn() {
    await okms.generateMac({
      keyId: macKeyId,
      message,
      macAlgorithm: "HMAC_SHA_256",
    });
  },
});

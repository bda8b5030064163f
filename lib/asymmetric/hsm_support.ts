/**
 * Which AWS algorithms the HSM can actually run, found once per session by
 * trying them: a module may list a mechanism yet refuse some of its
 * parameters (SoftHSM2 2.6.1 lists `CKM_RSA_PKCS_OAEP` but refuses it with
 * SHA-256). An algorithm the HSM refuses is left out of the key metadata
 * okms describes, so that nobody encrypts to a key, with it, what nothing
 * could ever decrypt.
 * @module
 */
import type { Hsm } from "../hsm.ts";
import { UnsupportedOperationException } from "../errors.ts";
import { importPublicKey } from "./key_generation.ts";
import { encrypt } from "./rsa_encryption.ts";

/**
 * A throwaway RSA-2048 public key (DER SPKI), made once for this probe: a
 * public key whose private half nobody kept.
 */
const PROBE_KEY = Uint8Array.fromHex(
  "30820122300d06092a864886f70d01010105000382010f003082010a02820101" +
    "00adb063ee488dda3ad0e2bbd487a0d40d92ad6c2b99cdae75b11611af120cf6" +
    "a28d5e272ed24f8597d03d0366a447d44235593895976bfdc9779a6f61d9f603" +
    "3870e838dec5077e05d44b5c4663802f9a0efccad7552e09751af1159ed620e2" +
    "2b1e82e827a5323b06a7d7d4c108782b25e00602df9dba662fe7d5958ab17107" +
    "14c641fec5ed4e6a7a57f807405f0105e54d1cbc7b20719ef1ef949ad3f1afeb" +
    "74927ec1cabf6c32b08dfcaca876970bf26549b6255331d0ae6bb0e326f104a1" +
    "ee124e481ed10d0393420ce70006be85304e4545f5462a7bd3004de3aac125ca" +
    "2fc3f7e270246fe0e2704a232a345e2e3b5ff8f83d16b1ec14f2d19b10038f82" +
    "a50203010001",
);

const known = new WeakMap<Hsm, ReadonlySet<string>>();

/**
 * The algorithms of the key specs that `hsm` refuses (today only
 * `RSAES_OAEP_SHA_256` can be), tried once per `Hsm` and remembered.
 *
 * @example
 * ```ts
 * if (unsupportedAlgorithms(hsm).has("RSAES_OAEP_SHA_256")) console.log("OAEP with SHA-1 only");
 * ```
 */
export function unsupportedAlgorithms(hsm: Hsm): ReadonlySet<string> {
  let refused = known.get(hsm);
  if (refused === undefined) {
    refused = probe(hsm);
    known.set(hsm, refused);
  }
  return refused;
}

function probe(hsm: Hsm): ReadonlySet<string> {
  const key = importPublicKey(hsm, "RSA_2048", "ENCRYPT_DECRYPT", PROBE_KEY);
  try {
    encrypt(hsm, key, "RSA_2048", "RSAES_OAEP_SHA_256", Uint8Array.of(1));
    return new Set();
  } catch (error) {
    if (!(error instanceof UnsupportedOperationException)) throw error;
    return new Set(["RSAES_OAEP_SHA_256"]);
  } finally {
    hsm.destroy(key);
  }
}

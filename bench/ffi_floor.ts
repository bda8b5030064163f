/**
 * The floor of the benchmarks: the PKCS#11 call sequences okms makes, made
 * straight through the project's `ffi/` binding with no KMS logic, on a key
 * made with okms's own template for a CMK version in use (a token object in
 * token mode, a session object in wrapped mode), with everything
 * preallocated as an ideal caller would.
 * @module
 */
import {
  AesGcmMechanism,
  CKA,
  GCM_IV_BYTES,
  GCM_TAG_BYTES,
  type Pkcs11,
} from "../ffi/mod.ts";
import type { Hsm } from "../lib/hsm.ts";
import type { KeyMaterialMode } from "../lib/metadata_store.ts";
import { cmkTemplate } from "../lib/material/token_key_material.ts";
import { CMK_IN_USE } from "../lib/material/wrapped_key_material.ts";

/**
 * One floor operation: a fixed PKCS#11 call sequence, all buffers ready.
 *
 * Each closure holds the {@linkcode AesGcmMechanism} itself, not only its
 * `struct`: the `CK_MECHANISM` bytes hold raw addresses of the parameter,
 * IV and AAD buffers, which only the mechanism object keeps alive. Holding
 * the struct alone let the garbage collector free them (a segfault in
 * `C_EncryptInit` once the module's top level had finished).
 */
export type FloorOperation = () => void;

/**
 * Raw AES-256-GCM on one logged-in session: `C_EncryptInit` + `C_Encrypt`,
 * `C_DecryptInit` + `C_Decrypt` and `C_GenerateRandom`, with a fixed IV and
 * an AAD as long as okms's (33-byte header plus encoded context).
 *
 * @example
 * ```ts
 * const floor = new FfiFloor(hsm, 33 + context.byteLength, "wrapped");
 * const encrypt32 = floor.encryptor(32);
 * encrypt32();
 * ```
 */
export class FfiFloor {
  readonly #p11: Pkcs11;
  readonly #session: number;
  readonly #key: number;
  readonly #gcm = new AesGcmMechanism();

  /**
   * Makes a key as okms uses a CMK version in `mode` on `hsm`'s token (a
   * token object; or a session object, as okms unwraps one) and sets the
   * mechanism's IV (random, then fixed) and an AAD of `aadBytes` random
   * bytes.
   */
  constructor(hsm: Hsm, aadBytes: number, mode: KeyMaterialMode) {
    this.#p11 = hsm.p11;
    this.#session = hsm.session;
    this.#key = hsm.generateAesKey(
      mode === "token"
        ? cmkTemplate(crypto.getRandomValues(new Uint8Array(16)))
        : [[CKA.VALUE_LEN, 32], ...CMK_IN_USE],
    );
    this.#gcm.set({
      iv: crypto.getRandomValues(new Uint8Array(GCM_IV_BYTES)),
      aad: crypto.getRandomValues(new Uint8Array(aadBytes)),
    });
  }

  /** `C_EncryptInit` + `C_Encrypt` of `size` bytes into a ready buffer. */
  encryptor(size: number): FloorOperation {
    const p11 = this.#p11, session = this.#session, key = this.#key;
    const gcm = this.#gcm;
    const plaintext = crypto.getRandomValues(new Uint8Array(size));
    const output = new Uint8Array(size + GCM_TAG_BYTES);
    return () => {
      p11.encryptInit(session, gcm, key);
      p11.encrypt(session, plaintext, output);
    };
  }

  /**
   * `C_DecryptInit` + `C_Decrypt` of a real ciphertext of `size` bytes (and
   * its tag), into an output as large as the input, as okms gives it.
   */
  decryptor(size: number): FloorOperation {
    const p11 = this.#p11, session = this.#session, key = this.#key;
    const gcm = this.#gcm;
    const sealed = new Uint8Array(size + GCM_TAG_BYTES);
    p11.encryptInit(session, gcm, key);
    p11.encrypt(
      session,
      crypto.getRandomValues(new Uint8Array(size)),
      sealed,
    );
    const output = new Uint8Array(sealed.byteLength);
    return () => {
      p11.decryptInit(session, gcm, key);
      p11.decrypt(session, sealed, output);
    };
  }

  /**
   * A data key's calls: `C_GenerateRandom` of `size` bytes, then
   * `C_EncryptInit` + `C_Encrypt` of them.
   */
  dataKeyGenerator(size: number): FloorOperation {
    const p11 = this.#p11, session = this.#session, key = this.#key;
    const gcm = this.#gcm;
    const dataKey = new Uint8Array(size);
    const output = new Uint8Array(size + GCM_TAG_BYTES);
    return () => {
      p11.generateRandom(session, dataKey);
      p11.encryptInit(session, gcm, key);
      p11.encrypt(session, dataKey, output);
    };
  }
}

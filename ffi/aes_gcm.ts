/**
 * A reusable `CKM_AES_GCM` mechanism with its `CK_GCM_PARAMS`.
 * @module
 */
import { CK_ULONG_SIZE, CKM } from "./constants.ts";
import { addressOf, fixedBuffer, Mechanism, writeUlong } from "./structs.ts";

/** GCM IV length okms uses: 96 bits, as NIST SP 800-38D recommends. */
export const GCM_IV_BYTES = 12;
/** GCM tag length: always 128 bits (SoftHSM2 accepts 0 and then writes no tag). */
export const GCM_TAG_BYTES = 16;

// CK_GCM_PARAMS (v2.40): pIv, ulIvLen, ulIvBits, pAAD, ulAADLen, ulTagBits.
const PARAMS_SIZE = 6 * CK_ULONG_SIZE;
const AAD_POINTER_AT = 3 * CK_ULONG_SIZE;
const AAD_LENGTH_AT = 4 * CK_ULONG_SIZE;

/**
 * A `CK_MECHANISM` for AES-GCM whose IV and AAD are set before each
 * `C_EncryptInit`/`C_DecryptInit`, so the hot path allocates nothing.
 *
 * @example
 * ```ts
 * const gcm = new AesGcmMechanism();
 * gcm.set(iv, aad);
 * p11.encryptInit(session, gcm.struct, key);
 * ```
 */
export class AesGcmMechanism {
  readonly #iv = fixedBuffer(GCM_IV_BYTES);
  readonly #params = fixedBuffer(PARAMS_SIZE);
  readonly #mechanism = new Mechanism(CKM.AES_GCM, this.#params);
  #aad = fixedBuffer(0);

  constructor(aadCapacity = 512) {
    writeUlong(this.#params, addressOf(this.#iv), 0);
    writeUlong(this.#params, GCM_IV_BYTES, CK_ULONG_SIZE);
    writeUlong(this.#params, GCM_IV_BYTES * 8, 2 * CK_ULONG_SIZE);
    writeUlong(this.#params, GCM_TAG_BYTES * 8, 5 * CK_ULONG_SIZE);
    this.#reserveAad(aadCapacity);
  }

  /** The `CK_MECHANISM` memory to pass to `C_EncryptInit`/`C_DecryptInit`. */
  get struct(): Uint8Array {
    return this.#mechanism.struct;
  }

  /** Sets the 12-byte IV and the additional authenticated data. */
  set(iv: Uint8Array, aad: Uint8Array): void {
    if (iv.byteLength !== GCM_IV_BYTES) {
      throw new RangeError(`a GCM IV is ${GCM_IV_BYTES} bytes`);
    }
    if (aad.byteLength > this.#aad.byteLength) this.#reserveAad(aad.byteLength);
    this.#iv.set(iv);
    this.#aad.set(aad);
    writeUlong(this.#params, aad.byteLength, AAD_LENGTH_AT);
  }

  #reserveAad(capacity: number): void {
    this.#aad = fixedBuffer(Math.max(capacity, 2 * this.#aad.byteLength));
    writeUlong(this.#params, addressOf(this.#aad), AAD_POINTER_AT);
  }
}

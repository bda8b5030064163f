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

const EMPTY = new Uint8Array(0);

// CK_GCM_PARAMS (v2.40): pIv, ulIvLen, ulIvBits, pAAD, ulAADLen, ulTagBits.
const PARAMS_SIZE = 6 * CK_ULONG_SIZE;
const AAD_POINTER_AT = 3 * CK_ULONG_SIZE;
const AAD_LENGTH_AT = 4 * CK_ULONG_SIZE;

/** Where the IV and AAD of one GCM operation are (see {@linkcode AesGcmMechanism.set}). */
export interface GcmInput {
  /** Holds the 12-byte IV at `ivAt`. */
  iv: Uint8Array;
  /** Where the IV starts in `iv`; 0 when absent. */
  ivAt?: number;
  /** Holds the start of the AAD at 0. */
  aad: Uint8Array;
  /** How many bytes of `aad` to use; all when absent. */
  aadLength?: number;
  /** What follows in the AAD; nothing when absent. */
  aadTail?: Uint8Array | AadSource;
}

/** Bytes that can write themselves into the AAD, sparing a buffer of their own. */
export interface AadSource {
  readonly byteLength: number;
  /** Writes the bytes into `target` at `offset`. */
  writeTo(target: Uint8Array, offset: number): void;
}

/**
 * A `CK_MECHANISM` for AES-GCM whose IV and AAD are set before each
 * `C_EncryptInit`/`C_DecryptInit`, so the hot path allocates nothing.
 *
 * @example
 * ```ts
 * const gcm = new AesGcmMechanism();
 * gcm.set({ iv, aad });
 * p11.encryptInit(session, gcm, key);
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

  /**
   * Sets the IV and the additional authenticated data, read in place so the
   * caller needs no views: the IV is `input.iv[ivAt .. ivAt+12]`, the AAD is
   * the first `aadLength` bytes of `input.aad` followed by `aadTail`.
   */
  set(input: GcmInput): void {
    const { iv, ivAt = 0, aad, aadLength = aad.byteLength, aadTail = EMPTY } =
      input;
    if (ivAt < 0 || ivAt + GCM_IV_BYTES > iv.byteLength) {
      throw new RangeError(`a GCM IV is ${GCM_IV_BYTES} bytes`);
    }
    const length = aadLength + aadTail.byteLength;
    if (length > this.#aad.byteLength) this.#reserveAad(length);
    for (let i = 0; i < GCM_IV_BYTES; i++) this.#iv[i] = iv[ivAt + i];
    for (let i = 0; i < aadLength; i++) this.#aad[i] = aad[i];
    if (aadTail instanceof Uint8Array) this.#aad.set(aadTail, aadLength);
    else aadTail.writeTo(this.#aad, aadLength);
    writeUlong(this.#params, length, AAD_LENGTH_AT);
  }

  #reserveAad(capacity: number): void {
    this.#aad = fixedBuffer(Math.max(capacity, 2 * this.#aad.byteLength));
    writeUlong(this.#params, addressOf(this.#aad), AAD_POINTER_AT);
  }
}

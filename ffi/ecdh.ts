/**
 * A `CKM_ECDH1_DERIVE` mechanism with its `CK_ECDH1_DERIVE_PARAMS`.
 * @module
 */
import { CK_ULONG_SIZE, CKD, CKM } from "./constants.ts";
import { addressOf, fixedBuffer, writeUlong } from "./structs.ts";
import type { MechanismStruct } from "./pkcs11.ts";

// CK_ECDH1_DERIVE_PARAMS: kdf, ulSharedDataLen, pSharedData, ulPublicDataLen, pPublicData.
const PARAMS_SIZE = 5 * CK_ULONG_SIZE;
const MECHANISM_SIZE = 3 * CK_ULONG_SIZE;

/**
 * `CKM_ECDH1_DERIVE` with `CKD_NULL` (the derived key's value is the raw
 * shared secret, the x coordinate of the shared point) and no shared data,
 * against the peer's uncompressed public point `04 ‖ x ‖ y`.
 *
 * The point is copied into memory of its own, which the mechanism keeps
 * referenced for as long as it lives.
 *
 * @example
 * ```ts
 * const ecdh = new EcdhMechanism(peerPoint);
 * const secret = p11.deriveKey(session, ecdh, privateKey, template);
 * ```
 */
export class EcdhMechanism implements MechanismStruct {
  /** The `CK_MECHANISM` memory. */
  readonly struct: Uint8Array = fixedBuffer(MECHANISM_SIZE);
  readonly #params = fixedBuffer(PARAMS_SIZE);
  readonly #point: Uint8Array;

  constructor(publicPoint: Uint8Array) {
    this.#point = fixedBuffer(publicPoint.byteLength);
    this.#point.set(publicPoint);
    writeUlong(this.#params, CKD.NULL, 0);
    // ulSharedDataLen (0) and pSharedData (NULL) stay zero.
    writeUlong(this.#params, this.#point.byteLength, 3 * CK_ULONG_SIZE);
    writeUlong(this.#params, addressOf(this.#point), 4 * CK_ULONG_SIZE);
    writeUlong(this.struct, CKM.ECDH1_DERIVE, 0);
    writeUlong(this.struct, addressOf(this.#params), CK_ULONG_SIZE);
    writeUlong(this.struct, PARAMS_SIZE, 2 * CK_ULONG_SIZE);
  }
}

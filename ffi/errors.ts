/**
 * Errors of the PKCS#11 binding.
 * @module
 */
import { ckrName } from "./constants.ts";

/**
 * A PKCS#11 function returned something other than `CKR_OK`.
 *
 * @example
 * ```ts
 * try {
 *   p11.login(session, CKU.USER, pin);
 * } catch (e) {
 *   if (e instanceof Pkcs11Error && e.ckr === "CKR_PIN_INCORRECT") console.error("wrong PIN");
 * }
 * ```
 */
export class Pkcs11Error extends Error {
  override name = "Pkcs11Error";
  /** The numeric `CK_RV`. */
  readonly code: number;
  /** The `CKR_*` name of {@linkcode code}. */
  readonly ckr: string;
  /** The PKCS#11 function that failed, e.g. `C_EncryptInit`. */
  readonly fn: string;

  constructor(fn: string, code: number) {
    const ckr = ckrName(code);
    super(`${fn} failed with ${ckr} (0x${code.toString(16)})`);
    this.code = code;
    this.ckr = ckr;
    this.fn = fn;
  }
}

/** The PKCS#11 module could not be found or loaded. */
export class Pkcs11LoadError extends Error {
  override name = "Pkcs11LoadError";
}

/**
 * okms's AES token objects (CMK versions in token mode, domain keys),
 * found by `CKA_ID` and destroyed by id or label.
 * @module
 */
import { CKA, CKK, CKM, CKO } from "../../ffi/mod.ts";
import type { Attribute } from "../../ffi/mod.ts";
import type { Hsm } from "../hsm.ts";

/**
 * `CKA_ALLOWED_MECHANISMS` of a CMK: AES-GCM only. With ECB allowed, one
 * `C_Encrypt` of a zero block would give GCM's hash key, enough to forge
 * ciphertexts.
 */
export const GCM_ONLY: Uint8Array = new Uint8Array(
  new BigUint64Array([BigInt(CKM.AES_GCM)]).buffer,
);

/** The class and type of every key okms makes: AES secret keys. */
const SECRET_AES: readonly Attribute[] = [
  [CKA.CLASS, CKO.SECRET_KEY],
  [CKA.KEY_TYPE, CKK.AES],
];

/** What an okms AES key is for, and how it may be used. */
export interface AesKeyUse {
  /** A token object (kept) or a session object (gone with the session). */
  token: boolean;
  /** Only so that it can be wrapped: it stays sensitive either way. */
  extractable: boolean;
  /** Encrypt and decrypt (CMKs). */
  cipher: boolean;
  /** Wrap and unwrap (domain keys). */
  wrap: boolean;
  /** `CKA_ALLOWED_MECHANISMS`, as packed `CK_MECHANISM_TYPE`s. */
  mechanisms: Uint8Array;
  /** More attributes: value length, id, label. */
  extra?: readonly Attribute[];
}

/**
 * The least-privilege template every okms AES key is made from: private,
 * sensitive, uncopyable, unmodifiable, no sign, verify or derive, and only
 * the uses and mechanisms `use` names. `CKA_MODIFIABLE` comes last: SoftHSM2
 * applies an unwrap template in order and refuses every attribute after it.
 *
 * @example
 * ```ts
 * hsm.generateAesKey(aesKeyTemplate({ token: false, extractable: false, cipher: true, wrap: false, mechanisms: GCM_ONLY }));
 * ```
 */
export function aesKeyTemplate(use: AesKeyUse): Attribute[] {
  return [
    ...SECRET_AES,
    ...use.extra ?? [],
    [CKA.TOKEN, use.token],
    [CKA.PRIVATE, true],
    [CKA.SENSITIVE, true],
    [CKA.EXTRACTABLE, use.extractable],
    [CKA.COPYABLE, false],
    [CKA.ENCRYPT, use.cipher],
    [CKA.DECRYPT, use.cipher],
    [CKA.WRAP, use.wrap],
    [CKA.UNWRAP, use.wrap],
    [CKA.SIGN, false],
    [CKA.VERIFY, false],
    [CKA.DERIVE, false],
    [CKA.ALLOWED_MECHANISMS, use.mechanisms],
    [CKA.MODIFIABLE, false],
  ];
}

function withId(hsm: Hsm, id: Uint8Array): number[] {
  return hsm.find([...SECRET_AES, [CKA.TOKEN, true], [CKA.ID, id]]);
}

/**
 * The AES token object whose `CKA_ID` is `id`, or `undefined`.
 *
 * @throws {Error} when several share the id: okms refuses to guess.
 * @example
 * ```ts
 * const handle = findTokenKey(hsm, materialId);
 * ```
 */
export function findTokenKey(hsm: Hsm, id: Uint8Array): number | undefined {
  const [handle, ...others] = withId(hsm, id);
  if (others.length > 0) {
    throw new Error(
      `${
        1 + others.length
      } HSM objects share the id ${id.toHex()}; refusing to guess`,
    );
  }
  return handle;
}

/**
 * Destroys every token object with `CKA_ID` `id` or label `label` (one a
 * crash left half-written may carry the label but not yet the id), and
 * checks that none is left.
 *
 * @throws {Error} when the HSM fails or an object is left.
 * @example
 * ```ts
 * destroyTokenKeys(hsm, materialId, cmkLabel(materialId));
 * ```
 */
export function destroyTokenKeys(
  hsm: Hsm,
  id: Uint8Array,
  label: string,
): void {
  const named = () => [
    ...new Set([...withId(hsm, id), ...hsm.find([[CKA.LABEL, label]])]),
  ];
  for (const handle of named()) hsm.destroy(handle);
  const left = named().length;
  if (left > 0) {
    throw new Error(
      `${left} HSM object(s) named ${id.toHex()} remain after C_DestroyObject`,
    );
  }
}

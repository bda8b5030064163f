/**
 * CMK material as token objects: generated in the HSM, found by `CKA_ID`.
 * @module
 */
import { CKA, CKK, CKO } from "../ffi/mod.ts";
import type { Attribute } from "../ffi/mod.ts";
import type { Hsm } from "./hsm.ts";
import type { KeyMaterial } from "./key_material.ts";

/** The label every okms CMK object carries. */
export const CMK_LABEL = "okms-cmk";

const SECRET_AES: readonly Attribute[] = [
  [CKA.CLASS, CKO.SECRET_KEY],
  [CKA.KEY_TYPE, CKK.AES],
];

/**
 * The least-privilege template of a CMK version: a private, sensitive,
 * non-extractable, unmodifiable, uncopyable AES-256 token key that can only
 * encrypt and decrypt.
 */
export function cmkTemplate(materialId: Uint8Array): Attribute[] {
  return [
    ...SECRET_AES,
    [CKA.VALUE_LEN, 32],
    [CKA.TOKEN, true],
    [CKA.PRIVATE, true],
    [CKA.SENSITIVE, true],
    [CKA.EXTRACTABLE, false],
    [CKA.MODIFIABLE, false],
    [CKA.COPYABLE, false],
    [CKA.ENCRYPT, true],
    [CKA.DECRYPT, true],
    [CKA.WRAP, false],
    [CKA.UNWRAP, false],
    [CKA.SIGN, false],
    [CKA.VERIFY, false],
    [CKA.DERIVE, false],
    [CKA.ID, materialId],
    [CKA.LABEL, CMK_LABEL],
  ];
}

/**
 * {@linkcode KeyMaterial} as token objects of one HSM session.
 *
 * @example
 * ```ts
 * const material = new TokenKeyMaterial(hsm);
 * const handle = material.generate(crypto.getRandomValues(new Uint8Array(16)));
 * ```
 */
export class TokenKeyMaterial implements KeyMaterial {
  readonly #hsm: Hsm;

  constructor(hsm: Hsm) {
    this.#hsm = hsm;
  }

  generate(materialId: Uint8Array): number {
    return this.#hsm.generateAesKey(cmkTemplate(materialId));
  }

  locate(materialId: Uint8Array): number | undefined {
    const [handle, ...others] = this.#find(materialId);
    if (others.length > 0) {
      throw new Error(
        `${
          1 + others.length
        } HSM objects share one material id; refusing to guess`,
      );
    }
    return handle;
  }

  destroy(materialId: Uint8Array): number {
    const handles = this.#find(materialId);
    for (const handle of handles) this.#hsm.destroy(handle);
    return handles.length;
  }

  #find(materialId: Uint8Array): number[] {
    return this.#hsm.find([
      ...SECRET_AES,
      [CKA.TOKEN, true],
      [CKA.ID, materialId],
    ]);
  }
}

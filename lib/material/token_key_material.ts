/**
 * CMK material as token objects: generated in the HSM, found by `CKA_ID`.
 * @module
 */
import { CKA, CKK, CKO } from "../../ffi/mod.ts";
import type { Attribute } from "../../ffi/mod.ts";
import type { Hsm } from "../hsm.ts";
import type { KeyMaterial, SweepResult } from "./key_material.ts";

/**
 * The label every okms CMK object starts with; `:` and the material id in
 * hex follow (objects made by earlier okms versions carry the bare prefix).
 */
export const CMK_LABEL = "okms-cmk";

/** The label of material `materialId`, e.g. `okms-cmk:00ff…`. */
export function cmkLabel(materialId: Uint8Array): string {
  return `${CMK_LABEL}:${materialId.toHex()}`;
}

const SECRET_AES: readonly Attribute[] = [
  [CKA.CLASS, CKO.SECRET_KEY],
  [CKA.KEY_TYPE, CKK.AES],
];

/**
 * The least-privilege template of a CMK version: a private, sensitive,
 * non-extractable, unmodifiable, uncopyable AES-256 token key that can only
 * encrypt and decrypt. The label repeats the id: should an HSM write the
 * label but not yet the id when a crash strikes, the journal still finds it.
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
    [CKA.LABEL, cmkLabel(materialId)],
  ];
}

/** Removes generation leftovers: {@linkcode KeyMaterial.sweep}. */
export type Sweeper = KeyMaterial["sweep"];

/**
 * {@linkcode KeyMaterial} as token objects of one HSM session. Give it a
 * `sweeper` only for a token okms owns outright (the embedded one): on a
 * shared token, an object okms cannot name may be anybody's.
 *
 * @example
 * ```ts
 * const material = new TokenKeyMaterial(hsm);
 * const handle = material.generate(crypto.getRandomValues(new Uint8Array(16)));
 * ```
 */
export class TokenKeyMaterial implements KeyMaterial {
  readonly #hsm: Hsm;
  readonly #sweeper: Sweeper | undefined;

  constructor(hsm: Hsm, sweeper?: Sweeper) {
    this.#hsm = hsm;
    this.#sweeper = sweeper;
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

  destroy(materialId: Uint8Array): void {
    for (const handle of this.#named(materialId)) this.#hsm.destroy(handle);
    const left = this.#named(materialId).length;
    if (left > 0) {
      throw new Error(
        `${left} HSM object(s) of material ${materialId.toHex()} remain after C_DestroyObject`,
      );
    }
  }

  sweep(
    creationUnderWay: () => Promise<boolean>,
    before: number,
  ): Promise<SweepResult> {
    return this.#sweeper?.(creationUnderWay, before) ??
      Promise.resolve({ removed: 0, complete: true });
  }

  #find(materialId: Uint8Array): number[] {
    return this.#hsm.find([
      ...SECRET_AES,
      [CKA.TOKEN, true],
      [CKA.ID, materialId],
    ]);
  }

  /** Objects with the material's id, or its label (half-written ones). */
  #named(materialId: Uint8Array): number[] {
    return [
      ...new Set([
        ...this.#find(materialId),
        ...this.#hsm.find([[CKA.LABEL, cmkLabel(materialId)]]),
      ]),
    ];
  }
}

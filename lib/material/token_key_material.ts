/**
 * CMK material as token objects: generated in the HSM, found by `CKA_ID`.
 * @module
 */
import { CKA } from "../../ffi/mod.ts";
import type { Attribute } from "../../ffi/mod.ts";
import { UnsupportedOperationException } from "../errors.ts";
import type { Hsm } from "../hsm.ts";
import type { KeyVersionRecord } from "../metadata_store.ts";
import {
  type KeyMaterial,
  type MaterialKind,
  type NewMaterial,
  type Sweeper,
  sweepNothing,
  type SweepResult,
} from "./key_material.ts";
import {
  aesKeyTemplate,
  destroyTokenKeys,
  findTokenKey,
  GCM_ONLY,
} from "./token_objects.ts";

/**
 * The label every okms CMK object starts with; `:` and the material id in
 * hex follow (objects made by earlier okms versions carry the bare prefix).
 */
export const CMK_LABEL = "okms-cmk";

/** The label of material `materialId`, e.g. `okms-cmk:00ff…`. */
export function cmkLabel(materialId: Uint8Array): string {
  return `${CMK_LABEL}:${materialId.toHex()}`;
}

/**
 * The least-privilege template of a CMK version: a private, sensitive,
 * non-extractable, unmodifiable, uncopyable AES-256 token key that can only
 * encrypt and decrypt. The label repeats the id: should an HSM write the
 * label but not yet the id when a crash strikes, the journal still finds it.
 */
export function cmkTemplate(materialId: Uint8Array): Attribute[] {
  return aesKeyTemplate({
    token: true,
    extractable: false,
    cipher: true,
    wrap: false,
    mechanisms: GCM_ONLY,
    extra: [
      [CKA.VALUE_LEN, 32],
      [CKA.ID, materialId],
      [CKA.LABEL, cmkLabel(materialId)],
    ],
  });
}

/**
 * {@linkcode KeyMaterial} as token objects of one HSM session. Give it a
 * `sweeper` only for a token okms owns outright (the embedded one): on a
 * shared token, an object okms cannot name may be anybody's.
 *
 * @example
 * ```ts
 * const material = new TokenKeyMaterial(hsm);
 * const { handle } = await material.generate(crypto.getRandomValues(new Uint8Array(16)));
 * ```
 */
export class TokenKeyMaterial implements KeyMaterial {
  readonly #hsm: Hsm;
  readonly #sweeper: Sweeper;

  constructor(hsm: Hsm, sweeper: Sweeper = sweepNothing) {
    this.#hsm = hsm;
    this.#sweeper = sweeper;
  }

  generate(materialId: Uint8Array, kind?: MaterialKind): Promise<NewMaterial> {
    if (kind?.keySpec !== undefined) {
      return Promise.reject(
        new UnsupportedOperationException(
          `KeySpec ${kind.keySpec} needs wrapped key material; this data directory keeps its keys as token objects (--key-material token)`,
        ),
      );
    }
    return Promise.resolve({
      handle: this.#hsm.generateAesKey(cmkTemplate(materialId)),
    });
  }

  locate({ materialId }: KeyVersionRecord): number | undefined {
    return findTokenKey(this.#hsm, materialId);
  }

  destroy(materialId: Uint8Array): void {
    destroyTokenKeys(this.#hsm, materialId, cmkLabel(materialId));
  }

  /** Nothing to let go of: a token object is found again at each start. */
  release(): void {}

  sweep(
    creationUnderWay: () => Promise<boolean>,
    before: number,
  ): Promise<SweepResult> {
    return this.#sweeper(creationUnderWay, before);
  }
}

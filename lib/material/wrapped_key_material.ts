/**
 * CMK material wrapped under a domain key: generated in the HSM as a
 * session object, wrapped, destroyed; only the wrapped key is stored. At use
 * it is unwrapped into a session object that can only encrypt and decrypt,
 * so nothing per key is ever written to the token.
 * @module
 */
import { CKA } from "../../ffi/mod.ts";
import type { Attribute } from "../../ffi/mod.ts";
import type { Hsm } from "../hsm.ts";
import type { KeyVersionRecord, WrappedMaterial } from "../metadata_store.ts";
import {
  type DomainKey,
  domainKeyLabel,
  type DomainKeys,
  WRAP_MECHANISMS,
} from "./domain_keys.ts";
import {
  type KeyMaterial,
  type NewMaterial,
  type Sweeper,
  sweepNothing,
  type SweepResult,
} from "./key_material.ts";
import { aesKeyTemplate, GCM_ONLY } from "./token_objects.ts";

/** A CMK as a session object: it can cipher, or only be wrapped. */
function sessionKey(
  extractable: boolean,
  cipher: boolean,
): readonly Attribute[] {
  return aesKeyTemplate({
    token: false,
    extractable,
    cipher,
    wrap: false,
    mechanisms: GCM_ONLY,
  });
}

/**
 * A CMK version unwrapped for use: a session object (gone when the session
 * closes), sensitive, not extractable, that only encrypts and decrypts.
 */
export const CMK_IN_USE: readonly Attribute[] = sessionKey(false, true);

/**
 * A CMK version between generation (or unwrapping) and wrapping: a session
 * object that can do nothing but be wrapped. Extractable only for that; it
 * is sensitive, so its value is never readable in the clear.
 */
const CMK_TO_WRAP: readonly Attribute[] = sessionKey(true, false);

/**
 * {@linkcode KeyMaterial} wrapped under the newest of {@linkcode DomainKeys}.
 * Give it a `sweeper` only for a token okms owns outright (the embedded
 * one: a crash inside the generation of a domain key may leave a
 * half-written token object).
 *
 * @example
 * ```ts
 * const material = new WrappedKeyMaterial(hsm, await DomainKeys.open(hsm, store, Date.now));
 * const { wrapped } = await material.generate(crypto.getRandomValues(new Uint8Array(16)));
 * ```
 */
export class WrappedKeyMaterial implements KeyMaterial {
  /** The domain keys it wraps under. */
  readonly domainKeys: DomainKeys;
  readonly #hsm: Hsm;
  readonly #sweeper: Sweeper;
  /** Versions unwrapped for use, by material id in hex. */
  readonly #inUse = new Map<string, number>();

  constructor(
    hsm: Hsm,
    domainKeys: DomainKeys,
    sweeper: Sweeper = sweepNothing,
  ) {
    this.#hsm = hsm;
    this.domainKeys = domainKeys;
    this.#sweeper = sweeper;
  }

  /**
   * Generates a session key, wraps it under the newest domain key and
   * destroys it, in one synchronous run: no other call can reach the
   * extractable key meanwhile, and a crash leaves nothing in the token.
   */
  async generate(): Promise<NewMaterial> {
    const domainKey = await this.domainKeys.newest();
    const key = this.#hsm.generateAesKey([[CKA.VALUE_LEN, 32], ...CMK_TO_WRAP]);
    return { wrapped: this.#wrapAndDestroy(key, domainKey) };
  }

  /** Unwraps the version's material for use, once per session. */
  locate(version: KeyVersionRecord): number | undefined {
    const name = version.materialId.toHex();
    const known = this.#inUse.get(name);
    if (known !== undefined) return known;
    const handle = version.wrapped && this.#unwrap(version.wrapped, CMK_IN_USE);
    if (handle !== undefined) this.#inUse.set(name, handle);
    return handle;
  }

  /**
   * Destroys the key unwrapped for the version `materialId` names, and the
   * token objects it names (a domain key journaled for destruction).
   */
  destroy(materialId: Uint8Array): void {
    this.release(materialId);
    this.domainKeys.destroy(materialId);
  }

  /** Destroys the key unwrapped for use from `materialId`'s version, if any. */
  release(materialId: Uint8Array): void {
    const name = materialId.toHex();
    const inUse = this.#inUse.get(name);
    if (inUse !== undefined) {
      this.#hsm.destroy(inUse);
      this.#inUse.delete(name);
    }
  }

  /**
   * The same material wrapped under the newest domain key instead.
   *
   * @throws {Error} when the HSM lacks the domain key it is wrapped under.
   */
  async rewrap(wrapped: WrappedMaterial): Promise<WrappedMaterial> {
    const domainKey = await this.domainKeys.newest();
    const key = this.#unwrap(wrapped, CMK_TO_WRAP);
    if (key === undefined) {
      throw new Error(
        `the HSM lacks domain key ${domainKeyLabel(wrapped.domainKeyId)}`,
      );
    }
    return this.#wrapAndDestroy(key, domainKey);
  }

  sweep(
    creationUnderWay: () => Promise<boolean>,
    before: number,
  ): Promise<SweepResult> {
    return this.#sweeper(creationUnderWay, before);
  }

  #wrapAndDestroy(key: number, domainKey: DomainKey): WrappedMaterial {
    try {
      const algorithm = this.domainKeys.algorithm;
      return {
        domainKeyId: domainKey.id,
        algorithm,
        blob: this.#hsm.wrap(WRAP_MECHANISMS[algorithm], domainKey.handle, key),
      };
    } finally {
      this.#hsm.destroy(key);
    }
  }

  /** A session key from `wrapped`, or `undefined` without its domain key. */
  #unwrap(
    wrapped: WrappedMaterial,
    template: readonly Attribute[],
  ): number | undefined {
    const unwrapping = this.domainKeys.handle(wrapped.domainKeyId);
    return unwrapping === undefined ? undefined : this.#hsm.unwrap(
      WRAP_MECHANISMS[wrapped.algorithm],
      unwrapping,
      wrapped.blob,
      template,
    );
  }
}

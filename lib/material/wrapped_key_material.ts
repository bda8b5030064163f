/**
 * CMK material wrapped under a domain key: generated in the HSM as a
 * session object, wrapped, destroyed; only the wrapped key is stored. At use
 * it is unwrapped into a session object that can only encrypt and decrypt,
 * so nothing per key is ever written to the token.
 * @module
 */
import { CKA, CKR, Pkcs11Error } from "../../ffi/mod.ts";
import {
  generateHmacKey,
  generateKeyPair,
} from "../asymmetric/key_generation.ts";
import {
  KEY_SPECS,
  type KeySpec,
  type KeyUsage,
} from "../asymmetric/key_specs.ts";
import { privateKeyTemplate } from "../asymmetric/templates.ts";
import { UnsupportedOperationException } from "../errors.ts";
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
  type MaterialKind,
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

/** The template a version of `kind` is unwrapped into for use. */
function inUseTemplate(kind: MaterialKind): readonly Attribute[] {
  const { keySpec, keyUsage } = kind;
  return keySpec === undefined ? CMK_IN_USE : privateKeyTemplate(
    keySpec,
    keyUsage!,
    { token: false, toWrap: false },
  );
}

/** The template a version of `kind` is unwrapped into to be wrapped again. */
function toWrapTemplate(kind: MaterialKind): readonly Attribute[] {
  const { keySpec, keyUsage } = kind;
  return keySpec === undefined ? CMK_TO_WRAP : privateKeyTemplate(
    keySpec,
    keyUsage!,
    { token: false, toWrap: true },
  );
}

/**
 * The private (or HMAC secret) key of a new asymmetric key as a session
 * object that can only be wrapped, and its public key; the public key
 * object is gone already.
 */
function generateToWrap(
  hsm: Hsm,
  keySpec: KeySpec,
  keyUsage: KeyUsage,
): { key: number; publicKey?: Uint8Array } {
  const placement = { token: false, toWrap: true };
  if (KEY_SPECS[keySpec].material.kind === "HMAC") {
    return { key: generateHmacKey(hsm, keySpec, placement) };
  }
  const pair = generateKeyPair(hsm, keySpec, keyUsage, placement);
  hsm.destroy(pair.publicKey);
  return { key: pair.privateKey, publicKey: pair.spki };
}

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
   * Generates a session key (an AES key, or the private or secret key of
   * an asymmetric or HMAC `kind`), wraps it under the newest domain key and
   * destroys it, in one synchronous run: no other call can reach the
   * extractable key meanwhile, and a crash leaves nothing in the token.
   *
   * @throws {UnsupportedOperationException} when the HSM cannot wrap such
   * a key (SoftHSM2 2.6.1: Ed25519; any key but AES without RFC 5649).
   */
  async generate(
    _materialId: Uint8Array,
    kind: MaterialKind = {},
  ): Promise<NewMaterial> {
    const domainKey = await this.domainKeys.newest();
    if (kind.keySpec === undefined) {
      const key = this.#hsm.generateAesKey([
        [CKA.VALUE_LEN, 32],
        ...CMK_TO_WRAP,
      ]);
      return { wrapped: this.#wrapAndDestroy(key, domainKey) };
    }
    const { keySpec, keyUsage } = kind as Required<MaterialKind>;
    if (this.domainKeys.algorithm !== "RFC5649") {
      throw new UnsupportedOperationException(
        `KeySpec ${keySpec} needs AES key wrap with padding (CKM_AES_KEY_WRAP_PAD), which the HSM does not offer`,
      );
    }
    const { key, publicKey } = generateToWrap(this.#hsm, keySpec, keyUsage);
    try {
      return { wrapped: this.#wrapAndDestroy(key, domainKey), publicKey };
    } catch (error) {
      if (
        error instanceof Pkcs11Error && error.code === CKR.KEY_NOT_WRAPPABLE
      ) {
        throw new UnsupportedOperationException(
          `the HSM cannot wrap ${keySpec} private keys (CKR_KEY_NOT_WRAPPABLE), and okms keeps key material only wrapped`,
        );
      }
      throw error;
    }
  }

  /** Unwraps the version's material for use, once per session. */
  locate(
    version: KeyVersionRecord,
    kind: MaterialKind = {},
  ): number | undefined {
    const name = version.materialId.toHex();
    const known = this.#inUse.get(name);
    if (known !== undefined) return known;
    const handle = version.wrapped &&
      this.#unwrap(version.wrapped, inUseTemplate(kind));
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
  async rewrap(
    wrapped: WrappedMaterial,
    kind: MaterialKind = {},
  ): Promise<WrappedMaterial> {
    const domainKey = await this.domainKeys.newest();
    const key = this.#unwrap(wrapped, toWrapTemplate(kind));
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

/**
 * Domain keys: AES-256 token objects that only wrap and unwrap CMK
 * material, recorded in the store and found in the HSM by `CKA_ID`.
 * @module
 */
import { CKA, CKM } from "../../ffi/mod.ts";
import type { Attribute } from "../../ffi/mod.ts";
import { KeyUnavailableException } from "../errors.ts";
import type { Hsm } from "../hsm.ts";
import type {
  DomainKeyRecord,
  DomainKeyStore,
  MetadataStore,
  WrapAlgorithm,
} from "../metadata_store.ts";
import {
  aesKeyTemplate,
  destroyTokenKeys,
  findTokenKey,
} from "./token_objects.ts";

/** The label every domain key starts with; `:` and its id in hex follow. */
export const DOMAIN_KEY_LABEL = "okms-domain";

/** The label of domain key `id`, e.g. `okms-domain:00ff…`. */
export function domainKeyLabel(id: Uint8Array): string {
  return `${DOMAIN_KEY_LABEL}:${id.toHex()}`;
}

/** The PKCS#11 mechanism of each wrap algorithm. */
export const WRAP_MECHANISMS: Readonly<Record<WrapAlgorithm, number>> = {
  RFC5649: CKM.AES_KEY_WRAP_PAD,
  RFC3394: CKM.AES_KEY_WRAP,
};

/**
 * The wrap algorithm a token offers: RFC 5649 (`CKM_AES_KEY_WRAP_PAD`), or
 * else RFC 3394 (`CKM_AES_KEY_WRAP`).
 *
 * @throws {Error} when it offers neither.
 * @example
 * ```ts
 * const mechanism = WRAP_MECHANISMS[wrapAlgorithm(hsm)];
 * ```
 */
export function wrapAlgorithm(hsm: Hsm): WrapAlgorithm {
  if (hsm.mechanisms.has(CKM.AES_KEY_WRAP_PAD)) return "RFC5649";
  if (hsm.mechanisms.has(CKM.AES_KEY_WRAP)) return "RFC3394";
  throw new Error(
    `the PKCS#11 token "${hsm.token.label}" offers neither CKM_AES_KEY_WRAP_PAD nor CKM_AES_KEY_WRAP, which wrapped key material needs: ` +
      'use keyMaterial "token" (OKMS_KEY_MATERIAL=token) for a new data directory',
  );
}

/**
 * `CKA_ALLOWED_MECHANISMS` of a domain key: both AES key wraps (a module
 * that gains RFC 5649 later can use it under the same key), nothing else.
 */
const WRAPS_ONLY = new Uint8Array(
  new BigUint64Array(Object.values(WRAP_MECHANISMS).map(BigInt)).buffer,
);

/** Options of {@linkcode domainKeyTemplate}. */
export interface DomainKeyTemplateOptions {
  /**
   * `CKA_EXTRACTABLE`: the key may be wrapped, so that it can move to
   * another node's HSM under RSA-OAEP (`domain_key_transfer.ts`). Only for
   * a cluster, whose nodes on other machines need it; a single node's
   * domain keys never leave its HSM. False by default.
   */
  transferable?: boolean;
  /**
   * `CKA_WRAP_WITH_TRUSTED`: the key can then be wrapped (transferred) only
   * under a key the security officer marked `CKA_TRUSTED`. Only for a token
   * whose SO PIN someone keeps (an external HSM): okms discards the SO PIN
   * of its embedded token, whose domain keys could then never be
   * transferred. False by default.
   */
  wrapWithTrusted?: boolean;
}

/**
 * The template of a domain key: a private, sensitive, unmodifiable,
 * uncopyable AES-256 token key that can only wrap and unwrap, with AES key
 * wrap alone. The label repeats the id (see `cmkTemplate`).
 *
 * A cluster's domain keys are extractable (`transferable`), so that they
 * can move to another node's HSM wrapped under RSA-OAEP
 * (`lib/material/domain_key_transfer.ts`), and only for that: being
 * sensitive, their value can never be read in the clear, only wrapped. On SoftHSM2 2.6.1 the user may wrap an extractable key under any
 * key of theirs, so whoever holds the user PIN could export a domain key;
 * with SoftHSM2 the PIN and the token files open every key anyway. The
 * stricter `wrapWithTrusted` (see {@linkcode DomainKeyTemplateOptions})
 * limits wrapping to SO-trusted keys, and needs the SO PIN to transfer.
 * Domain keys made by a single node, or before clusters, are not
 * extractable and cannot be transferred.
 *
 * @example
 * ```ts
 * const handle = hsm.generateAesKey(domainKeyTemplate(crypto.getRandomValues(new Uint8Array(16))));
 * ```
 */
export function domainKeyTemplate(
  id: Uint8Array,
  options: DomainKeyTemplateOptions = {},
): Attribute[] {
  return aesKeyTemplate({
    token: true,
    extractable: options.transferable ?? false,
    cipher: false,
    wrap: true,
    mechanisms: WRAPS_ONLY,
    extra: [
      [CKA.VALUE_LEN, 32],
      [CKA.ID, id],
      [CKA.LABEL, domainKeyLabel(id)],
      [CKA.WRAP_WITH_TRUSTED, options.wrapWithTrusted ?? false],
    ],
  });
}

/** A domain key ready for use. */
export interface DomainKey {
  readonly id: Uint8Array;
  readonly handle: number;
}

/**
 * A data directory's domain keys: the store records them (the newest wraps
 * new material), the HSM holds them. Handles are found once, by `CKA_ID`.
 *
 * @example
 * ```ts
 * const domainKeys = await DomainKeys.open(hsm, store, Date.now);
 * const { id, handle } = await domainKeys.newest();
 * ```
 */
export class DomainKeys {
  /** How material is wrapped under them, as the token allows. */
  readonly algorithm: WrapAlgorithm;
  readonly #hsm: Hsm;
  readonly #store: MetadataStore & DomainKeyStore;
  readonly #now: () => number;
  readonly #handles = new Map<string, number>();
  /** Whether the store is a cluster's: its domain keys must move between HSMs. */
  readonly #transferable: boolean;

  private constructor(
    hsm: Hsm,
    store: MetadataStore & DomainKeyStore,
    now: () => number,
  ) {
    this.#hsm = hsm;
    this.#store = store;
    this.#now = now;
    this.algorithm = wrapAlgorithm(hsm);
    this.#transferable = "admittedTokens" in store;
  }

  /** The domain keys of `store` in `hsm`; the first is made if there is none. */
  static async open(
    hsm: Hsm,
    store: MetadataStore & DomainKeyStore,
    now: () => number,
  ): Promise<DomainKeys> {
    const domainKeys = new DomainKeys(hsm, store, now);
    if ((await store.domainKeys()).length === 0) await domainKeys.create();
    return domainKeys;
  }

  /**
   * The domain key that wraps new material: the newest in the store, read
   * afresh so that a rotation made by another process is followed.
   */
  async newest(): Promise<DomainKey> {
    const newest = (await this.#store.domainKeys()).at(-1);
    if (newest === undefined) {
      throw new KeyUnavailableException("the store records no domain key");
    }
    const handle = this.handle(newest.id);
    if (handle === undefined) {
      throw new KeyUnavailableException(
        `the HSM lacks domain key ${domainKeyLabel(newest.id)}`,
      );
    }
    return { id: newest.id, handle };
  }

  /** The handle of domain key `id`, or `undefined` when the HSM lacks it. */
  handle(id: Uint8Array): number | undefined {
    const name = id.toHex();
    const known = this.#handles.get(name);
    if (known !== undefined) return known;
    const found = findTokenKey(this.#hsm, id);
    if (found !== undefined) this.#handles.set(name, found);
    return found;
  }

  /**
   * Makes a domain key, the newest from now on: its id is journaled, the
   * key is generated in the HSM, then recorded (clearing the journal entry),
   * so a crash leaves at worst a journaled object that recovery destroys.
   */
  async create(): Promise<DomainKeyRecord> {
    const record = {
      id: crypto.getRandomValues(new Uint8Array(16)),
      createdAt: this.#now(),
    };
    await this.#store.journalMaterial(record.id, record.createdAt);
    const handle = this.#hsm.generateAesKey(
      domainKeyTemplate(record.id, { transferable: this.#transferable }),
    );
    this.#handles.set(record.id.toHex(), handle);
    await this.#store.addDomainKey(record);
    return record;
  }

  /**
   * Destroys the token objects of domain key `id` (by id, or label for a
   * half-written one) and checks that none is left.
   */
  destroy(id: Uint8Array): void {
    this.#handles.delete(id.toHex());
    destroyTokenKeys(this.#hsm, id, domainKeyLabel(id));
  }
}

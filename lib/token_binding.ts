/**
 * Which PKCS#11 token holds a data directory's keys: recorded on first use,
 * checked at every open, so that a directory never runs on another token.
 *
 * Tokens are compared by the label and serial number that `C_GetTokenInfo`
 * reports: those belong to the token. The module path is recorded only to
 * name it in messages, since one module legitimately moves (SoftHSM2 is
 * both /usr/lib/softhsm/libsofthsm2.so and
 * /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so on Debian; vendors
 * relocate their drivers across upgrades) while the keys stay.
 *
 * The record also says how the keys' material is kept (token objects, or
 * wrapped under domain keys), and in wrapped mode the store names the
 * domain keys the token must hold.
 * @module
 */
import { EXTERNAL_TOKEN_SETTINGS } from "./embedded_token.ts";
import type { Hsm } from "./hsm.ts";
import { domainKeyLabel } from "./material/domain_keys.ts";
import { TokenKeyMaterial } from "./material/token_key_material.ts";
import { findTokenKey } from "./material/token_objects.ts";
import type {
  DomainKeyStore,
  KeyMaterialMode,
  KeyRecord,
  MetadataStore,
  SharedStore,
  TokenBinding,
} from "./metadata_store.ts";

function sameToken(a: TokenBinding, b: TokenBinding): boolean {
  return a.label === b.label && a.serialNumber === b.serialNumber;
}

function describe(token: TokenBinding): string {
  return token.embedded
    ? `the embedded SoftHSM2 token (serial ${token.serialNumber})`
    : `the PKCS#11 token "${token.label}" (serial ${token.serialNumber}) of module ${token.modulePath}`;
}

const MODES: Readonly<Record<KeyMaterialMode, string>> = {
  token: "as token objects",
  wrapped: "wrapped under domain keys",
};

/** What to do when the token given is not the one expected. */
function remedy(bound: TokenBinding, dataDir: string): string {
  return bound.embedded
    ? `restore ${dataDir}/tokens from a backup`
    : `give the right one with ${EXTERNAL_TOKEN_SETTINGS}`;
}

/**
 * The check of a data directory's token, in two steps around opening it.
 *
 * @example
 * ```ts
 * const check = await TokenCheck.before(store, "the okms data directory .okms", ".okms", false, undefined);
 * const hsm = Hsm.open({ ...options, initializeWithSoPin: check.fresh ? soPin : undefined });
 * const binding = await check.after(hsm);
 * ```
 */
export class TokenCheck {
  /** How the directory keeps its keys' material (a new one: as asked, else wrapped). */
  readonly keyMaterial: KeyMaterialMode;
  readonly #store: MetadataStore & DomainKeyStore;
  /** What holds the record, for messages: a data directory or a database. */
  readonly #where: string;
  readonly #dataDir: string;
  readonly #external: boolean;
  readonly #bound: TokenBinding | undefined;
  readonly #defaultKey: KeyRecord | undefined;

  private constructor(
    store: MetadataStore & DomainKeyStore,
    where: string,
    dataDir: string,
    external: boolean,
    bound: TokenBinding | undefined,
    defaultKey: KeyRecord | undefined,
    keyMaterial: KeyMaterialMode,
  ) {
    this.#store = store;
    this.#where = where;
    this.#dataDir = dataDir;
    this.#external = external;
    this.#bound = bound;
    this.#defaultKey = defaultKey;
    this.keyMaterial = keyMaterial;
  }

  /**
   * Reads the record before any token is opened or made, and refuses the
   * wrong kind: an external token for a directory whose keys are in its
   * embedded one, or none for a directory whose keys are in an external
   * one; and `keyMaterial`, when given, unless the directory keeps its keys
   * that way (a directory with keys from before modes were recorded keeps
   * them as token objects).
   *
   * @throws {Error} naming the token or mode expected and how to give it.
   */
  static async before(
    store: MetadataStore & DomainKeyStore,
    where: string,
    dataDir: string,
    external: boolean,
    keyMaterial: KeyMaterialMode | undefined,
  ): Promise<TokenCheck> {
    const bound = await store.tokenBinding();
    if (bound !== undefined && bound.embedded === external) {
      throw new Error(
        `${where} keeps its keys in ${describe(bound)}, but ` +
          (external
            ? "an external token was given: open it without --pkcs11-token-label and --pkcs11-pin-file (OKMS_PKCS11_TOKEN_LABEL, OKMS_PKCS11_PIN_FILE, OKMS_PKCS11_PIN)"
            : `no PKCS#11 token was given: give it with ${EXTERNAL_TOKEN_SETTINGS}`),
      );
    }
    const [account] = await store.listAccounts();
    const defaultKey = account === undefined
      ? undefined
      : await store.getDefaultKey(account);
    const kept = bound?.keyMaterial ??
      (bound === undefined && defaultKey === undefined ? undefined : "token");
    if (
      kept !== undefined && keyMaterial !== undefined && kept !== keyMaterial
    ) {
      throw new Error(
        `${where} keeps its keys' material ${
          MODES[kept]
        }, but keyMaterial "${keyMaterial}" (OKMS_KEY_MATERIAL) was given: ` +
          `give "${kept}" or nothing; the mode is chosen when the store is made`,
      );
    }
    return new TokenCheck(
      store,
      where,
      dataDir,
      external,
      bound,
      defaultKey,
      kept ?? keyMaterial ?? "wrapped",
    );
  }

  /**
   * Whether the directory records no token and holds no key: only then may
   * a new embedded token be made in it.
   */
  get fresh(): boolean {
    return this.#bound === undefined && this.#defaultKey === undefined;
  }

  /**
   * Checks the opened token against the record, or records it: on first
   * use, or, for a directory from before tokens were recorded, once the
   * token is seen to hold the default key's material. In wrapped mode, the
   * token must also hold every domain key the store records.
   *
   * @throws {Error} naming the token or domain key expected and how to give it.
   */
  async after(hsm: Hsm): Promise<TokenBinding> {
    const given: TokenBinding = {
      embedded: !this.#external,
      modulePath: hsm.modulePath,
      label: hsm.token.label,
      serialNumber: hsm.token.serialNumber,
      keyMaterial: this.keyMaterial,
    };
    let bound = this.#bound;
    if (bound === undefined) {
      const version = this.#defaultKey?.versions.at(-1);
      if (
        version !== undefined &&
        new TokenKeyMaterial(hsm).locate(version) === undefined
      ) {
        throw new Error(
          `${
            describe(given)
          } does not hold the keys of ${this.#where} (not even its default key): ` +
            `give the token that holds them with ${EXTERNAL_TOKEN_SETTINGS}`,
        );
      }
      bound = await this.#store.bindToken(given);
    }
    const shared = "admittedTokens" in this.#store;
    const admitted = shared
      ? await (this.#store as unknown as SharedStore).admittedTokens()
      : [bound];
    if (!admitted.some((token) => sameToken(token, given))) {
      throw new Error(
        shared
          ? `${this.#where} admits ${admitted.map(describe).join(", ")}, not ${
            describe(given)
          }: bring the domain keys into this token first with \`deno task admin transfer-request\` (see the README's cluster section)`
          : `${this.#where} keeps its keys in ${
            describe(bound)
          }, but was given ${describe(given)}: ${remedy(bound, this.#dataDir)}`,
      );
    }
    if (this.keyMaterial === "wrapped") await this.#checkDomainKeys(hsm, bound);
    return bound;
  }

  async #checkDomainKeys(hsm: Hsm, bound: TokenBinding): Promise<void> {
    for (const { id, createdAt } of await this.#store.domainKeys()) {
      if (findTokenKey(hsm, id) !== undefined) continue;
      throw new Error(
        `${this.#where} wraps its keys under domain key ${
          domainKeyLabel(id)
        } (made ${new Date(createdAt).toISOString()}), which ${
          describe(bound)
        } does not hold: ${remedy(bound, this.#dataDir)}`,
      );
    }
  }
}

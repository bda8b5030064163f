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
 * @module
 */
import { EXTERNAL_TOKEN_SETTINGS } from "./embedded_token.ts";
import type { Hsm } from "./hsm.ts";
import type { KeyMaterial } from "./material/key_material.ts";
import type {
  KeyRecord,
  MetadataStore,
  TokenBinding,
} from "./metadata_store.ts";

function describe(token: TokenBinding): string {
  return token.embedded
    ? `the embedded SoftHSM2 token (serial ${token.serialNumber})`
    : `the PKCS#11 token "${token.label}" (serial ${token.serialNumber}) of module ${token.modulePath}`;
}

/**
 * The check of a data directory's token, in two steps around opening it.
 *
 * @example
 * ```ts
 * const check = await TokenCheck.before(store, ".okms", false);
 * const hsm = Hsm.open({ ...options, initializeWithSoPin: check.fresh ? soPin : undefined });
 * const binding = await check.after(hsm, new TokenKeyMaterial(hsm));
 * ```
 */
export class TokenCheck {
  readonly #store: MetadataStore;
  readonly #dataDir: string;
  readonly #external: boolean;
  readonly #bound: TokenBinding | undefined;
  readonly #defaultKey: KeyRecord | undefined;

  private constructor(
    store: MetadataStore,
    dataDir: string,
    external: boolean,
    bound: TokenBinding | undefined,
    defaultKey: KeyRecord | undefined,
  ) {
    this.#store = store;
    this.#dataDir = dataDir;
    this.#external = external;
    this.#bound = bound;
    this.#defaultKey = defaultKey;
  }

  /**
   * Reads the record before any token is opened or made, and refuses the
   * wrong kind: an external token for a directory whose keys are in its
   * embedded one, or none for a directory whose keys are in an external one.
   *
   * @throws {Error} naming the token expected and how to give it.
   */
  static async before(
    store: MetadataStore,
    dataDir: string,
    external: boolean,
  ): Promise<TokenCheck> {
    const bound = await store.tokenBinding();
    if (bound !== undefined && bound.embedded === external) {
      throw new Error(
        `the okms data directory ${dataDir} keeps its keys in ${
          describe(bound)
        }, but ` +
          (external
            ? "an external token was given: open it without --pkcs11-token-label and --pkcs11-pin-file (OKMS_PKCS11_TOKEN_LABEL, OKMS_PKCS11_PIN_FILE, OKMS_PKCS11_PIN)"
            : `no PKCS#11 token was given: give it with ${EXTERNAL_TOKEN_SETTINGS}`),
      );
    }
    const [account] = await store.listAccounts();
    const defaultKey = account === undefined
      ? undefined
      : await store.getDefaultKey(account);
    return new TokenCheck(store, dataDir, external, bound, defaultKey);
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
   * token is seen to hold the default key's material.
   *
   * @throws {Error} naming the token expected and how to give it.
   */
  async after(hsm: Hsm, material: KeyMaterial): Promise<TokenBinding> {
    const given: TokenBinding = {
      embedded: !this.#external,
      modulePath: hsm.modulePath,
      label: hsm.token.label,
      serialNumber: hsm.token.serialNumber,
    };
    let bound = this.#bound;
    if (bound === undefined) {
      const materialId = this.#defaultKey?.versions.at(-1)?.materialId;
      if (
        materialId !== undefined && material.locate(materialId) === undefined
      ) {
        throw new Error(
          `${
            describe(given)
          } does not hold the keys of the okms data directory ${this.#dataDir} (not even its default key): ` +
            `give the token that holds them with ${EXTERNAL_TOKEN_SETTINGS}`,
        );
      }
      bound = await this.#store.bindToken(given);
    }
    if (
      bound.label !== given.label || bound.serialNumber !== given.serialNumber
    ) {
      throw new Error(
        `the okms data directory ${this.#dataDir} keeps its keys in ${
          describe(bound)
        }, but was given ${describe(given)}: ` +
          (bound.embedded
            ? `restore ${this.#dataDir}/tokens from a backup`
            : `give the right one with ${EXTERNAL_TOKEN_SETTINGS}`),
      );
    }
    return bound;
  }
}

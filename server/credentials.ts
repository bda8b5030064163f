/**
 * Access keys: issuing them, and resolving them for SigV4 with their
 * secrets sealed under a key of an internal account that no access key can
 * reach.
 * @module
 */
import { newAccountId } from "../lib/key_id.ts";
import {
  type EncryptionContext,
  InvalidCiphertextException,
  NotFoundException,
  type Okms,
  type OkmsAccount,
  ValidationException,
} from "../mod.ts";
import type { AccessKeyInfo, AccessKeyStore } from "./access_key_store.ts";
import type { SecretSource, SigningSecret } from "./sigv4.ts";

/** The file of the access key table under a data directory. */
export function accessKeyDbPath(dataDir: string): string {
  return `${dataDir}/access_keys.db`;
}

/** A new access key: the only time its secret is seen. */
export interface NewAccessKey {
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Settings of {@linkcode Credentials.open}. */
export interface CredentialsOptions {
  /** Receives the line saying a stored secret does not open (tampering); stderr. */
  warn?: (line: string) => void;
  /** A monotonic clock, milliseconds, for revalidation; `performance.now`. */
  clock?: () => number;
}

/**
 * The longest a revocation made by another process (the admin CLI) takes to
 * reach this one: cached keys are checked against the table this often.
 */
export const REVALIDATE_MS = 1000;

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const INTERNAL_ACCOUNT = "internal_account";

function randomAccessKeyId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "AKIA" + Array.from(bytes, (b) => BASE32[b & 31]).join("");
}

/** Binds a sealed secret to its access key and account: edit either, and it does not open. */
function sealingContext(
  accessKeyId: string,
  accountId: string,
): EncryptionContext {
  return {
    "okms:purpose": "access-key-secret",
    "okms:access-key-id": accessKeyId,
    "okms:account-id": accountId,
  };
}

/**
 * The server's access keys. Secrets are stored sealed by the library's
 * `encrypt` under the default key of an internal account, with the access
 * key id and its account as encryption context (a sealed secret moved to
 * another row, or a row moved to another account, does not open). Each secret is decrypted once and kept in memory only.
 *
 * @example
 * ```ts
 * const credentials = await Credentials.open(okms, AccessKeyStore.open(".okms/access_keys.db"));
 * const { accessKeyId, secretAccessKey } = await credentials.createAccessKey(okms.accountId);
 * ```
 */
export class Credentials implements SecretSource, Disposable {
  /** The account that seals secrets; no access key ever belongs to it. */
  readonly internalAccountId: string;
  /** The access key table. */
  readonly store: AccessKeyStore;
  readonly #okms: Okms;
  readonly #internal: OkmsAccount;
  readonly #sealingKey: string;
  readonly #cache = new Map<string, SigningSecret>();
  #dataVersion = -1;
  #nextRevalidation = -Infinity;
  readonly #warn: (line: string) => void;
  readonly #clock: () => number;

  private constructor(
    okms: Okms,
    store: AccessKeyStore,
    internal: OkmsAccount,
    sealingKey: string,
    options: CredentialsOptions,
  ) {
    this.#warn = options.warn ?? ((line) => console.error(line));
    this.#clock = options.clock ?? (() => performance.now());
    this.#okms = okms;
    this.store = store;
    this.#internal = internal;
    this.internalAccountId = internal.accountId;
    this.#sealingKey = sealingKey;
  }

  /**
   * Opens the access keys of `okms`, creating the internal account on first
   * use. Takes ownership of `store` (closed by {@linkcode close}).
   */
  static async open(
    okms: Okms,
    store: AccessKeyStore,
    options: CredentialsOptions = {},
  ): Promise<Credentials> {
    const accountId = store.initMeta(INTERNAL_ACCOUNT, newAccountId());
    let internal: OkmsAccount;
    try {
      internal = await okms.account(accountId);
    } catch (error) {
      if (!(error instanceof NotFoundException)) throw error;
      internal = await okms.createAccount(accountId);
    }
    const sealingKey = (await internal.defaultKey()).arn;
    return new Credentials(okms, store, internal, sealingKey, options);
  }

  /**
   * Issues an access key for an account.
   *
   * @throws {NotFoundException} when the account does not exist.
   * @throws {ValidationException} for the internal account.
   */
  async createAccessKey(accountId: string): Promise<NewAccessKey> {
    if (accountId === this.internalAccountId) {
      throw new ValidationException(
        "the internal account cannot have access keys",
      );
    }
    await this.#okms.account(accountId);
    const accessKeyId = randomAccessKeyId();
    const secret = crypto.getRandomValues(new Uint8Array(30));
    const secretAccessKey = secret.toBase64();
    const { ciphertextBlob } = await this.#internal.encrypt({
      keyId: this.#sealingKey,
      plaintext: new TextEncoder().encode(secretAccessKey),
      encryptionContext: sealingContext(accessKeyId, accountId),
    });
    this.store.insert(
      accessKeyId,
      accountId,
      ciphertextBlob,
      this.#okms.config.now(),
    );
    return { accountId, accessKeyId, secretAccessKey };
  }

  /** Revokes an access key at once, in this process and for good. */
  revokeAccessKey(accessKeyId: string): AccessKeyInfo {
    this.#evict(accessKeyId);
    return this.store.revoke(accessKeyId, this.#okms.config.now());
  }

  /**
   * The secret of an active access key, else undefined. A cached key is
   * trusted until another process commits to the table (the admin CLI
   * revoking it): the store's data version, looked at no more than once per
   * {@linkcode REVALIDATE_MS}, shows that, and every cached secret is then
   * zeroed and forgotten, to be read and decrypted again on next use.
   * So a revocation elsewhere takes effect within that time; one made
   * through this object, at once. The secret is decrypted only on first use.
   */
  async resolve(accessKeyId: string): Promise<SigningSecret | undefined> {
    const now = this.#clock();
    if (now >= this.#nextRevalidation) {
      this.#nextRevalidation = now + REVALIDATE_MS;
      const version = this.store.dataVersion();
      if (version !== this.#dataVersion) {
        // Another process changed the table: forget every secret (zeroed),
        // so a key revoked there leaves no secret here.
        this.#dataVersion = version;
        for (const id of [...this.#cache.keys()]) this.#evict(id);
      }
    }
    const known = this.#cache.get(accessKeyId);
    if (known !== undefined) return known;
    const row = this.store.get(accessKeyId);
    if (
      row === undefined || row.status !== "Active" ||
      row.accountId === this.internalAccountId
    ) {
      return undefined;
    }
    let plaintext: Uint8Array;
    try {
      ({ plaintext } = await this.#internal.decrypt({
        ciphertextBlob: row.sealedSecret,
        keyId: this.#sealingKey,
        encryptionContext: sealingContext(accessKeyId, row.accountId),
      }));
    } catch (error) {
      if (!(error instanceof InvalidCiphertextException)) throw error;
      this.#warn(
        `okms: the sealed secret of access key ${accessKeyId} does not open: refusing the key`,
      );
      return undefined;
    }
    const raced = this.#cache.get(accessKeyId);
    if (raced !== undefined) {
      plaintext.fill(0);
      return raced;
    }
    const secret = { accessKeyId, accountId: row.accountId, secret: plaintext };
    this.#cache.set(accessKeyId, secret);
    return secret;
  }

  /** Forgets every cached secret and closes the table. */
  close(): void {
    for (const id of [...this.#cache.keys()]) this.#evict(id);
    this.store.close();
  }

  /** As {@linkcode close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #evict(accessKeyId: string): void {
    this.#cache.get(accessKeyId)?.secret.fill(0);
    this.#cache.delete(accessKeyId);
  }
}

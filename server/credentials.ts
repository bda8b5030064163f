/**
 * Access keys: issuing them, and resolving them for SigV4 with their
 * secrets sealed under a key of an internal account that no access key can
 * reach.
 * @module
 */
import { newAccountId } from "../lib/key_id.ts";
import type { AccessKeyInfo, AccessKeys } from "../lib/store/access_keys.ts";
import {
  AlreadyExistsException,
  DependencyTimeoutException,
  type EncryptionContext,
  InvalidCiphertextException,
  NotFoundException,
  type Okms,
  type OkmsAccount,
  ValidationException,
} from "../mod.ts";
import { AccessKeyStore } from "./access_key_store.ts";
import type { SecretSource, SigningSecret } from "./sigv4.ts";

/** The file of the access key table under a data directory. */
export function accessKeyDbPath(dataDir: string): string {
  return `${dataDir}/access_keys.db`;
}

/**
 * The access key table okms's settings name: with a `databaseUrl`, the
 * cluster's PostgreSQL database, in the same schema as okms's keys (the
 * URL's `schema` parameter, else `okms`); else the data directory's SQLite
 * file, for one node.
 *
 * @example
 * ```ts
 * const credentials = await Credentials.open(okms, await openAccessKeys(okms.config));
 * ```
 */
export async function openAccessKeys(
  config: { dataDir: string; databaseUrl?: string },
): Promise<AccessKeys> {
  if (config.databaseUrl === undefined) {
    return AccessKeyStore.open(accessKeyDbPath(config.dataDir));
  }
  // The PostgreSQL client is loaded only for a cluster.
  const { PostgresAccessKeyStore } = await import(
    "../lib/store/postgres_access_keys.ts"
  );
  return await PostgresAccessKeyStore.open(config.databaseUrl);
}

/** A new access key: the only time its secret is seen. */
export interface NewAccessKey {
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Settings of {@linkcode Credentials.open}. */
export interface CredentialsOptions {
  /**
   * Receives the lines saying a stored secret does not open (tampering), and
   * that the access key database became unreachable or is back; stderr.
   */
  warn?: (line: string) => void;
  /** A monotonic clock, milliseconds, for revalidation; `performance.now`. */
  clock?: () => number;
}

/**
 * The bound: the longest a revocation made by another process (the admin
 * CLI, another node of a cluster) takes to reach this one, and the longest
 * cached secrets are used while the access key database cannot be reached.
 * Cached keys are trusted for this long after the start of the last
 * successful check of the table's data version.
 */
export const REVALIDATE_MS = 1000;

/**
 * After a failed check, requests that need one fail at once for this long
 * rather than each trying the database again.
 */
export const RECHECK_MS = 100;

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

/** The internal account, made if need be (by one of the nodes starting at once). */
async function internalAccount(
  okms: Okms,
  accountId: string,
): Promise<OkmsAccount> {
  try {
    return await okms.account(accountId);
  } catch (error) {
    if (!(error instanceof NotFoundException)) throw error;
  }
  try {
    return await okms.createAccount(accountId);
  } catch (error) {
    if (!(error instanceof AlreadyExistsException)) throw error;
    return await okms.account(accountId);
  }
}

/**
 * The server's access keys, over either {@linkcode AccessKeys} store.
 * Secrets are stored sealed by the library's `encrypt` under the default
 * key of an internal account, with the access key id and its account as
 * encryption context (a sealed secret moved to another row, or a row moved
 * to another account, does not open). Each secret is decrypted once and
 * kept in memory only; it is never logged.
 *
 * @example
 * ```ts
 * await using credentials = await Credentials.open(okms, AccessKeyStore.open(".okms/access_keys.db"));
 * const { accessKeyId, secretAccessKey } = await credentials.createAccessKey(okms.accountId);
 * ```
 */
export class Credentials implements SecretSource, AsyncDisposable {
  /** The account that seals secrets; no access key ever belongs to it. */
  readonly internalAccountId: string;
  /** The access key table. */
  readonly store: AccessKeys;
  readonly #okms: Okms;
  readonly #internal: OkmsAccount;
  readonly #sealingKey: string;
  readonly #cache = new Map<string, SigningSecret>();
  /** Bumped by every eviction: a lookup spanning one caches nothing. */
  #generation = 0;
  #dataVersion = -1;
  /** On the monotonic clock: until when the cache is known to be current. */
  #trustedUntil = -Infinity;
  /** The check in flight, which every request that needs one awaits. */
  #checking: Promise<void> | undefined;
  #lastFailure: { at: number; error: unknown } | undefined;
  readonly #warn: (line: string) => void;
  readonly #clock: () => number;

  private constructor(
    okms: Okms,
    store: AccessKeys,
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
   * use (the first node of a cluster to start makes it; the others find
   * it). Takes ownership of `store`: closed by {@linkcode close}, or at once
   * if opening fails.
   */
  static async open(
    okms: Okms,
    store: AccessKeys,
    options: CredentialsOptions = {},
  ): Promise<Credentials> {
    try {
      const accountId = await store.initMeta(INTERNAL_ACCOUNT, newAccountId());
      const internal = await internalAccount(okms, accountId);
      const sealingKey = (await internal.defaultKey()).arn;
      return new Credentials(okms, store, internal, sealingKey, options);
    } catch (error) {
      await store.close();
      throw error;
    }
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
    // From the HSM: `deno run --seed` makes crypto.getRandomValues repeatable.
    const { plaintext: secret } = await this.#internal.generateRandom({
      numberOfBytes: 30,
    });
    const secretAccessKey = secret.toBase64();
    secret.fill(0);
    const { ciphertextBlob } = await this.#internal.encrypt({
      keyId: this.#sealingKey,
      plaintext: new TextEncoder().encode(secretAccessKey),
      encryptionContext: sealingContext(accessKeyId, accountId),
    });
    await this.store.insert(
      accessKeyId,
      accountId,
      ciphertextBlob,
      this.#okms.config.now(),
    );
    return { accountId, accessKeyId, secretAccessKey };
  }

  /**
   * Revokes an access key for good: in this process as soon as the
   * revocation is stored, elsewhere within {@linkcode REVALIDATE_MS}.
   *
   * @throws {NotFoundException} when there is no such key.
   */
  async revokeAccessKey(accessKeyId: string): Promise<AccessKeyInfo> {
    const revoked = await this.store.revoke(
      accessKeyId,
      this.#okms.config.now(),
    );
    this.#evict(accessKeyId);
    return revoked;
  }

  /**
   * The secret of an active access key, else undefined.
   *
   * A cached key is trusted until the table changes: its data version,
   * checked at most once per {@linkcode REVALIDATE_MS} (in the background
   * from half that, so that a busy server does not wait for it), shows that, and
   * every cached secret is then zeroed and forgotten, to be read and
   * decrypted again on next use. So a revocation elsewhere takes effect
   * within that time; one made through this object, at once.
   *
   * While the database cannot be reached, cached secrets serve until that
   * time is up; then, and for any key not cached, this rejects with a
   * `DependencyTimeoutException` until a check succeeds again.
   *
   * @throws {DependencyTimeoutException} when the table cannot be reached
   * and the cache may be stale.
   */
  async resolve(accessKeyId: string): Promise<SigningSecret | undefined> {
    const now = this.#clock();
    if (now >= this.#trustedUntil) await this.#revalidate();
    else if (now >= this.#trustedUntil - REVALIDATE_MS / 2) {
      // Ahead of time, in the background: under load no request waits.
      this.#revalidate().catch(() => {});
    }
    for (;;) {
      const known = this.#cache.get(accessKeyId);
      if (known !== undefined) return known;
      const generation = this.#generation;
      const found = await this.#lookup(accessKeyId);
      if (found === undefined) return undefined;
      if (generation === this.#generation && !this.#cache.has(accessKeyId)) {
        this.#cache.set(accessKeyId, found);
        return found;
      }
      // Evicted meanwhile (what was read may be what was revoked), or
      // cached by a concurrent lookup: look again.
      found.secret.fill(0);
    }
  }

  /** Forgets every cached secret and closes the table. */
  async close(): Promise<void> {
    this.#evictAll();
    await this.store.close();
  }

  /** As {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The stored key, its secret decrypted, if it is active and opens. */
  async #lookup(accessKeyId: string): Promise<SigningSecret | undefined> {
    const row = await this.store.get(accessKeyId);
    if (
      row === undefined || row.status !== "Active" ||
      row.accountId === this.internalAccountId
    ) {
      return undefined;
    }
    try {
      const { plaintext } = await this.#internal.decrypt({
        ciphertextBlob: row.sealedSecret,
        keyId: this.#sealingKey,
        encryptionContext: sealingContext(accessKeyId, row.accountId),
      });
      return { accessKeyId, accountId: row.accountId, secret: plaintext };
    } catch (error) {
      if (!(error instanceof InvalidCiphertextException)) throw error;
      this.#warn(
        `okms: the sealed secret of access key ${accessKeyId} does not open: refusing the key`,
      );
      return undefined;
    }
  }

  /**
   * One check at a time; an unreachable database is the answer for
   * {@linkcode RECHECK_MS}.
   */
  #revalidate(): Promise<void> {
    const failure = this.#lastFailure;
    if (failure !== undefined && this.#clock() < failure.at + RECHECK_MS) {
      return Promise.reject(failure.error);
    }
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #check(): Promise<void> {
    const started = this.#clock();
    let version: number;
    try {
      version = await this.store.dataVersion();
    } catch (error) {
      if (!(error instanceof DependencyTimeoutException)) throw error;
      if (this.#lastFailure === undefined) {
        this.#warn(
          `okms: ${error.message} (${
            (error.cause as Error | undefined)?.message ?? "no detail"
          }): requests fail with DependencyTimeoutException until it answers`,
        );
      }
      this.#lastFailure = { at: this.#clock(), error };
      throw error;
    }
    if (this.#lastFailure !== undefined) {
      this.#lastFailure = undefined;
      this.#warn("okms: the access key database answers again");
    }
    if (version !== this.#dataVersion) {
      // The table changed: forget every secret (zeroed), so a key revoked
      // there leaves no secret here.
      this.#dataVersion = version;
      this.#evictAll();
    }
    this.#trustedUntil = started + REVALIDATE_MS;
  }

  #evictAll(): void {
    for (const { secret } of this.#cache.values()) secret.fill(0);
    this.#cache.clear();
    this.#generation++;
  }

  #evict(accessKeyId: string): void {
    this.#cache.get(accessKeyId)?.secret.fill(0);
    this.#cache.delete(accessKeyId);
    this.#generation++;
  }
}

/**
 * `Okms`: opening the KMS on its HSM and store, and its accounts.
 * @module
 */
import { findPkcs11Module } from "../ffi/mod.ts";
import {
  literalPin,
  type OkmsConfig,
  type OkmsOptions,
  resolveConfig,
} from "./config.ts";
import {
  EMBEDDED_TOKEN_LABEL,
  prepareEmbeddedToken,
  readPinFile,
} from "./embedded_token.ts";
import {
  AlreadyExistsException,
  NotFoundException,
  ValidationException,
} from "./errors.ts";
import { Hsm, type HsmOptions } from "./hsm.ts";
import { newAccountId } from "./key_id.ts";
import { KeyRing } from "./key_ring.ts";
import { type MaintenanceReport, runMaintenance } from "./maintenance.ts";
import { type KmsContext, OkmsAccount } from "./okms_account.ts";
import { OwnerLock } from "./owner_lock.ts";
import { SqliteStore } from "./sqlite_store.ts";
import { TokenKeyMaterial } from "./token_key_material.ts";

async function hsmOptions(
  config: OkmsConfig,
  options: OkmsOptions,
): Promise<HsmOptions> {
  const modulePath = findPkcs11Module(config.modulePaths);
  const viaFunctionList = config.viaFunctionList;
  if (config.external === undefined) {
    const token = await prepareEmbeddedToken(config.dataDir, modulePath);
    return {
      modulePath,
      viaFunctionList,
      tokenLabel: EMBEDDED_TOKEN_LABEL,
      pin: token.pin,
      initializeWithSoPin: token.soPin,
    };
  }
  const { tokenLabel, pinFile } = config.external;
  const pin = pinFile === undefined
    ? new TextEncoder().encode(literalPin(options))
    : await readPinFile(pinFile);
  return { modulePath, viaFunctionList, tokenLabel, pin };
}

/**
 * Creates the data directory (mode 0700) if it is missing, but not its
 * parents: a mistyped path must not quietly become a new, empty KMS.
 */
async function makeDataDir(dataDir: string): Promise<void> {
  try {
    await Deno.mkdir(dataDir, { mode: 0o700 });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return;
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `cannot create the okms data directory ${dataDir}: its parent directory does not exist`,
      );
    }
    throw error;
  }
}

/**
 * okms: a KMS whose CMKs live in a PKCS#11 token. An `Okms` is the default
 * account's operations (see {@linkcode OkmsAccount}) plus what spans
 * accounts. Open one per data directory and process.
 *
 * @example
 * ```ts
 * import { Okms } from "./mod.ts";
 * await using okms = await Okms.open();   // .okms/: SoftHSM2 token + SQLite
 * const key = await okms.createKey({ description: "orders" });
 * const { ciphertextBlob } = await okms.encrypt({ keyId: key.keyId, plaintext, encryptionContext: { order: "42" } });
 * const { plaintext: back } = await okms.decrypt({ ciphertextBlob, encryptionContext: { order: "42" } });
 * ```
 */
export class Okms extends OkmsAccount implements AsyncDisposable {
  /** The settings in force. */
  readonly config: Readonly<OkmsConfig>;
  readonly #kms: KmsContext;
  readonly #store: SqliteStore;
  readonly #lock: OwnerLock | undefined;
  #closed = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #maintenance: Promise<MaintenanceReport> | undefined;

  private constructor(
    config: OkmsConfig,
    kms: KmsContext,
    store: SqliteStore,
    defaultAccount: string,
    lock: OwnerLock | undefined,
  ) {
    super(kms, defaultAccount);
    this.config = config;
    this.#kms = kms;
    this.#store = store;
    this.#lock = lock;
  }

  /**
   * Opens okms: takes the data directory (unless `beside`), then the token
   * (creating the embedded one on first use), the database, and the default
   * account with its default key, and runs maintenance (which finishes any
   * work a crash interrupted).
   */
  static async open(options: OkmsOptions = {}): Promise<Okms> {
    const config = resolveConfig(options);
    await makeDataDir(config.dataDir);
    const lock = config.beside ? undefined : OwnerLock.take(config.dataDir);
    let hsm: Hsm | undefined;
    let store: SqliteStore | undefined;
    try {
      hsm = Hsm.open(await hsmOptions(config, options));
      store = SqliteStore.open(`${config.dataDir}/okms.db`);
      const ring = new KeyRing(
        store,
        new TokenKeyMaterial(hsm),
        config.now,
        config.maxEncryptionsPerVersion,
        config.beside,
      );
      const kms: KmsContext = {
        hsm,
        ring,
        region: config.region,
        keyQuota: config.keyQuota,
        now: config.now,
        beside: config.beside,
      };
      const accounts = await store.listAccounts();
      const defaultAccount = accounts[0] ?? newAccountId();
      if (accounts.length === 0) {
        await store.createAccount(defaultAccount, config.now());
      }
      const okms = new Okms(config, kms, store, defaultAccount, lock);
      if (lock === undefined) return okms;
      for (const account of await store.listAccounts()) {
        await okms.#ensureDefaultKey(account);
      }
      await okms.runMaintenance();
      okms.#startTimer();
      return okms;
    } catch (error) {
      store?.close();
      hsm?.close();
      lock?.[Symbol.dispose]();
      throw error;
    }
  }

  /** The operations of another account. */
  async account(accountId: string): Promise<OkmsAccount> {
    if (!await this.#store.hasAccount(accountId)) {
      throw new NotFoundException(`account ${accountId} does not exist`);
    }
    return new OkmsAccount(this.#kms, accountId);
  }

  /** Creates an account (with its default key); returns its operations. */
  async createAccount(
    accountId: string = newAccountId(),
  ): Promise<OkmsAccount> {
    if (!/^\d{12}$/.test(accountId)) {
      throw new ValidationException("an account id is 12 digits");
    }
    if (await this.#store.hasAccount(accountId)) {
      throw new AlreadyExistsException(`account ${accountId} exists already`);
    }
    await this.#store.createAccount(accountId, this.config.now());
    await this.#ensureDefaultKey(accountId);
    return new OkmsAccount(this.#kms, accountId);
  }

  /** Every account id, the default account first. */
  listAccounts(): Promise<string[]> {
    return this.#store.listAccounts();
  }

  /**
   * Deletes the keys whose waiting period is over (HSM material included) and
   * rotates the keys whose automatic rotation is due. It runs at open and
   * then every `maintenanceIntervalMs`; calling it is only needed with the
   * timer off, or in tests that move the clock.
   */
  runMaintenance(): Promise<MaintenanceReport> {
    this.#maintenance ??= runMaintenance(this.#kms.ring, this.config.now())
      .finally(() => this.#maintenance = undefined);
    return this.#maintenance;
  }

  /** Stops maintenance and closes the database and the HSM session. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#maintenance?.catch(() => {});
    try {
      this.#store.close();
    } finally {
      this.#kms.hsm.close();
      this.#lock?.[Symbol.dispose]();
    }
  }

  /** As {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #startTimer(): void {
    if (this.config.maintenanceIntervalMs === 0) return;
    this.#timer = setInterval(() => {
      this.runMaintenance().catch((error) =>
        console.error(`okms maintenance failed: ${(error as Error).message}`)
      );
    }, this.config.maintenanceIntervalMs);
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  async #ensureDefaultKey(accountId: string): Promise<void> {
    if (await this.#store.getDefaultKey(accountId) !== undefined) return;
    await this.#kms.ring.create({
      keyId: crypto.randomUUID(),
      accountId,
      description: "Default master key",
      tags: [],
      isDefault: true,
    }, Number.MAX_SAFE_INTEGER);
  }
}

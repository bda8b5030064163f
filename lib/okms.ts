/**
 * `Okms`: opening the KMS on its HSM and store, and its accounts.
 * @module
 */
import { type OkmsConfig, type OkmsOptions, resolveConfig } from "./config.ts";
import {
  AlreadyExistsException,
  KMSInternalException,
  NotFoundException,
  UnsupportedOperationException,
  ValidationException,
} from "./errors.ts";
import type { HsmObserver } from "./hsm.ts";
import { newAccountId } from "./key_id.ts";
import { KeyRing } from "./key_ring.ts";
import { type MaintenanceReport, runMaintenance } from "./maintenance.ts";
import {
  type RewrapReport,
  rewrapUnderNewest,
} from "./material/domain_key_rotation.ts";
import { DomainKeys } from "./material/domain_keys.ts";
import type { KeyMaterial } from "./material/key_material.ts";
import { TokenKeyMaterial } from "./material/token_key_material.ts";
import { WrappedKeyMaterial } from "./material/wrapped_key_material.ts";
import type {
  DomainKeyStore,
  MetadataStore,
  SharedStore,
  TokenBinding,
} from "./metadata_store.ts";
import { ChangeFeed } from "./change_feed.ts";
import { LEASE_MS, underLease } from "./lease.ts";
import { NodeLock } from "./node_lock.ts";
import { makeDataDir, openToken } from "./node_token.ts";
import { describeDatabase } from "./store/postgres_url.ts";
import type { PostgresStore } from "./store/postgres_store.ts";
import { type KmsContext, OkmsAccount } from "./okms_account.ts";
import { OwnerLock } from "./owner_lock.ts";
import { SqliteStore } from "./sqlite_store.ts";
import { TokenCheck } from "./token_binding.ts";

/** The lease of the cluster node setting up what must exist once. */
const SETUP_LEASE = "setup";
/** The lease of the cluster node that runs maintenance. */
const MAINTENANCE_LEASE = "maintenance";
/** How long the change feed keeps a change (a node away longer re-reads all). */
const CHANGES_KEPT_MS = 3_600_000;

/** What an `Okms` holds, and how to let go of it, last first. */
interface OkmsParts {
  store: MetadataStore & DomainKeyStore;
  /** The cluster's store, when there is one. */
  shared: SharedStore | undefined;
  material: KeyMaterial;
  /** This process's name among cluster nodes (lease holder). */
  nodeId: string;
  pidFile: string | undefined;
  closers: (() => unknown)[];
}

/** The cluster's store; the PostgreSQL client is loaded only for it. */
async function openPostgres(url: string): Promise<PostgresStore> {
  const { PostgresStore } = await import("./store/postgres_store.ts");
  return await PostgresStore.open(url);
}

function release(lock: Disposable): void {
  lock[Symbol.dispose]();
}

/** The report of a maintenance run left to another cluster node. */
function idleReport(): MaintenanceReport {
  return {
    deleted: [],
    rotated: [],
    recovered: 0,
    recoveryFailures: [],
    failed: [],
  };
}

/** What {@linkcode Okms.rotateDomainKey} did. */
export interface DomainKeyRotation extends RewrapReport {
  /** The new domain key's id (`CKA_ID`, hex); its label is `okms-domain:<id>`. */
  domainKeyId: string;
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
  /** The token that holds the keys, as the data directory records it. */
  readonly token: Readonly<TokenBinding>;
  readonly #kms: KmsContext;
  readonly #parts: OkmsParts;
  readonly #store: MetadataStore & DomainKeyStore;
  readonly #material: KeyMaterial;
  #closed = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #maintenance: Promise<MaintenanceReport> | undefined;
  /** The tail of the queue of maintenance runs and domain-key rotations. */
  #queue: Promise<void> = Promise.resolve();

  private constructor(
    config: OkmsConfig,
    token: TokenBinding,
    kms: KmsContext,
    parts: OkmsParts,
    defaultAccount: string,
  ) {
    super(kms, defaultAccount);
    this.config = config;
    this.token = token;
    this.#kms = kms;
    this.#parts = parts;
    this.#store = parts.store;
    this.#material = parts.material;
  }

  /**
   * Opens okms: takes the data directory (unless `beside`; shared with the
   * other cluster nodes when there is a `databaseUrl`), then the store (the
   * directory's SQLite file, or the cluster's database), then the token the
   * store records (creating the embedded one on first use; any other token,
   * another key material mode, or a token lacking a domain key the store
   * records, is refused), and the default account with its default key, and
   * runs maintenance (which finishes any work a crash interrupted).
   */
  static async open(options: OkmsOptions = {}): Promise<Okms> {
    const config = resolveConfig(options);
    const cluster = config.databaseUrl !== undefined;
    if (cluster && config.keyMaterial === "token") {
      throw new ValidationException(
        'a cluster (databaseUrl, OKMS_DATABASE_URL) keeps its keys wrapped under domain keys: give keyMaterial "wrapped" or nothing',
      );
    }
    await makeDataDir(config.dataDir);
    const held: Disposable[] = [];
    const closers: (() => unknown)[] = [() => held.reverse().forEach(release)];
    try {
      const owner = config.beside || cluster
        ? undefined
        : OwnerLock.take(config.dataDir);
      if (owner !== undefined) held.push(owner);
      if (!config.beside) {
        held.push(
          await NodeLock.take(config.dataDir, cluster ? "shared" : "exclusive"),
        );
      }
      const shared = cluster
        ? await openPostgres(config.databaseUrl!)
        : undefined;
      const store = shared ?? SqliteStore.open(`${config.dataDir}/okms.db`);
      closers.push(() => store.close());
      const nodeId = `${Deno.pid}/${crypto.randomUUID()}`;
      const setUp = (work: () => Promise<Okms>) =>
        shared ? underLease(shared, SETUP_LEASE, nodeId, work) : work();
      const okms = await setUp(async () => {
        const where = cluster
          ? `the okms database ${describeDatabase(config.databaseUrl!)}`
          : `the okms data directory ${config.dataDir}`;
        const check = await TokenCheck.before(
          store,
          where,
          config.dataDir,
          config.external !== undefined,
          config.keyMaterial,
        );
        // A cluster node's embedded token is its own HSM: made when missing
        // (and then refused until admitted, see \`transfer-request\`).
        const opened = await openToken(config, options, cluster || check.fresh);
        const hsm = opened.hsm;
        closers.push(() => hsm.close());
        const token = await check.after(hsm);
        const material = check.keyMaterial === "wrapped"
          ? new WrappedKeyMaterial(
            hsm,
            await DomainKeys.open(hsm, store, config.now),
            opened.sweeper,
          )
          : new TokenKeyMaterial(hsm, opened.sweeper);
        const feed = shared && !config.beside
          ? new ChangeFeed(shared, config.changePollMs)
          : undefined;
        const ring = new KeyRing(
          store,
          material,
          config.now,
          config.maxEncryptionsPerVersion,
          config.beside,
          feed,
        );
        await feed?.start(ring);
        if (feed !== undefined) closers.push(() => feed.stop());
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
        const okms = new Okms(config, token, kms, {
          store,
          shared,
          material,
          nodeId,
          pidFile: owner?.pidFile,
          closers,
        }, defaultAccount);
        if (config.beside) return okms;
        for (const account of await store.listAccounts()) {
          await okms.#ensureDefaultKey(account);
        }
        return okms;
      });
      if (config.beside) return okms;
      await okms.runMaintenance();
      okms.#startTimer();
      return okms;
    } catch (error) {
      for (const close of closers.reverse()) await close();
      throw error;
    }
  }

  /**
   * The file holding this process's PID while it owns the data directory
   * (`<dataDir>/okms.pid`, removed on close); undefined when opened beside.
   */
  get pidFile(): string | undefined {
    return this.#parts.pidFile;
  }

  /**
   * Resolves when okms can serve: open, its HSM session answering (one byte
   * from its RNG) and its store answering a read; rejects otherwise.
   *
   * @example
   * ```ts
   * const healthy = await okms.checkHealth().then(() => true, () => false);
   * ```
   */
  async checkHealth(): Promise<void> {
    if (this.#closed) throw new KMSInternalException("okms is closed");
    this.#kms.hsm.random(1);
    await this.#store.ping();
  }

  /**
   * Sends the duration of every HSM call to `observer` (e.g. a metrics
   * histogram), or stops with `undefined`. Off by default: it costs two
   * clock reads per call.
   *
   * @example
   * ```ts
   * okms.observeHsmCalls((call, seconds) => histogram.observe({ call }, seconds));
   * ```
   */
  observeHsmCalls(observer: HsmObserver | undefined): void {
    this.#kms.hsm.observer = observer;
  }

  /**
   * Runs `work` while no other node of the cluster runs its own setup (the
   * database's "setup" lease, which `open` also holds while it makes the
   * default account and keys); at once on a single node. For first-start
   * work that must happen once per cluster, e.g. the server's first access
   * key.
   *
   * @example
   * ```ts
   * const first = await okms.setUpOnce(async () => (await isFirstStart()) ? await makeFirstKey() : undefined);
   * ```
   */
  setUpOnce<T>(work: () => Promise<T>): Promise<T> {
    const { shared, nodeId } = this.#parts;
    return shared === undefined
      ? work()
      : underLease(shared, SETUP_LEASE, nodeId, work);
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
    // Under the setup lease, where a starting node makes missing default keys.
    await this.setUpOnce(async () => {
      if (await this.#store.hasAccount(accountId)) {
        throw new AlreadyExistsException(
          `account ${accountId} exists already`,
        );
      }
      await this.#store.createAccount(accountId, this.config.now());
      await this.#ensureDefaultKey(accountId);
    });
    return new OkmsAccount(this.#kms, accountId);
  }

  /** Every account id, the default account first. */
  listAccounts(): Promise<string[]> {
    return this.#store.listAccounts();
  }

  /**
   * Deletes the keys whose waiting period is over (HSM material included) and
   * rotates the keys whose automatic rotation is due; with wrapped material,
   * re-wraps what an interrupted domain-key rotation left under an older
   * domain key and destroys older domain keys nothing is wrapped under
   * (see {@linkcode rotateDomainKey}; not beside the owner). It runs at
   * open and then every `maintenanceIntervalMs`; calling it is only needed
   * with the timer off, or in tests that move the clock.
   */
  runMaintenance(): Promise<MaintenanceReport> {
    this.#maintenance ??= this.#exclusive(async () => {
      const now = this.config.now();
      if (!await this.#maintainer()) return idleReport();
      const report = await runMaintenance(this.#kms.ring, now);
      if (this.#material instanceof WrappedKeyMaterial && !this.config.beside) {
        const rewrap = await this.#rewrap(this.#material, now);
        const { rewrapped, retired, failures } = rewrap;
        if (rewrapped + retired.length + failures.length > 0) {
          report.domainKeys = rewrap;
        }
      }
      return report;
    }).finally(() => this.#maintenance = undefined);
    return this.#maintenance;
  }

  /**
   * Makes a new domain key, which wraps all new material from now on, and
   * re-wraps every key version under it before resolving. Every ciphertext
   * decrypts throughout. The older domain key is destroyed by maintenance
   * once nothing is wrapped under it and the new one is a minute old (a
   * creation under way may still wrap under the old one until then); the
   * wrapped copies of material in old backups of the store are then
   * useless. Only with wrapped key material, by the owning process.
   *
   * @throws {UnsupportedOperationException} with token-object material, or
   * beside the owning process.
   * @example
   * ```ts
   * const { domainKeyId, rewrapped } = await okms.rotateDomainKey();
   * ```
   */
  rotateDomainKey(): Promise<DomainKeyRotation> {
    const material = this.#material;
    if (!(material instanceof WrappedKeyMaterial)) {
      return Promise.reject(
        new UnsupportedOperationException(
          "this data directory keeps its keys as token objects: it has no domain keys to rotate",
        ),
      );
    }
    if (this.config.beside) {
      return Promise.reject(
        new UnsupportedOperationException(
          "a domain key is rotated by the process that owns the data directory",
        ),
      );
    }
    return this.#exclusive(async () => {
      const admitted = await this.#parts.shared?.admittedTokens();
      if (admitted !== undefined && admitted.length > 1) {
        throw new UnsupportedOperationException(
          `the cluster admits ${admitted.length} HSMs: a new domain key made in this one would leave the others unable to use new keys; rotate domain keys while one HSM is admitted`,
        );
      }
      const { id } = await material.domainKeys.create();
      const report = await this.#rewrap(material, this.config.now());
      return { domainKeyId: id.toHex(), ...report };
    });
  }

  /**
   * Stops maintenance (giving up its lease in a cluster), the change feed,
   * and closes the store and the HSM session. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#queue;
    const { shared, nodeId, closers } = this.#parts;
    await shared?.releaseLease(MAINTENANCE_LEASE, nodeId).catch(() => {});
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch {
        // close the rest regardless
      }
    }
  }

  /** As {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Whether this process runs maintenance: always on one node; in a
   * cluster, the node holding the maintenance lease, which it renews at
   * every run and which another node takes once it has run out.
   */
  async #maintainer(): Promise<boolean> {
    const { shared, nodeId } = this.#parts;
    if (shared === undefined) return true;
    const held = await shared.takeLease(
      MAINTENANCE_LEASE,
      nodeId,
      Math.max(LEASE_MS, 3 * this.config.maintenanceIntervalMs),
    );
    if (held) await shared.pruneChanges(Date.now() - CHANGES_KEPT_MS);
    return held;
  }

  #rewrap(
    material: WrappedKeyMaterial,
    now: number,
  ): Promise<RewrapReport> {
    return rewrapUnderNewest(this.#kms.ring, material, this.#store, now);
  }

  /** Runs `work` after any maintenance or rotation under way. */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    this.#queue = run.then(() => {}, () => {});
    return run;
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
    // In a cluster this runs under the setup lease (open, createAccount): no
    // other node makes it meanwhile.
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

/**
 * okms settings: options, else `OKMS_*` environment variables, else defaults.
 * @module
 */
import { isAbsolute, relative, resolve, sep as SEPARATOR } from "node:path";
import { SOFTHSM2_MODULE_PATHS } from "../ffi/mod.ts";
import { ValidationException } from "./errors.ts";
import { NIST_RANDOM_IV_BOUND } from "./key_ring.ts";
import type { KeyMaterialMode } from "./metadata_store.ts";

/** How to reach a PKCS#11 token other than the embedded one. */
export interface Pkcs11Options {
  /** Module path (`OKMS_PKCS11_MODULE`); default: SoftHSM2's usual paths. */
  module?: string;
  /** Token label (`OKMS_PKCS11_TOKEN_LABEL`). Giving one with a PIN selects an external token. */
  tokenLabel?: string;
  /** User PIN (`OKMS_PKCS11_PIN`). Prefer `pinFile`. */
  pin?: string;
  /** File holding the user PIN (`OKMS_PKCS11_PIN_FILE`). */
  pinFile?: string;
  /** Bind through `C_GetFunctionList` even if the module exports `C_*`. */
  viaFunctionList?: boolean;
}

/** Options of {@linkcode Okms.open}. */
export interface OkmsOptions {
  /** Data directory (`OKMS_DATA_DIR`, default `.okms`): database, embedded token, PIN file. */
  dataDir?: string;
  /** Region in ARNs (`OKMS_REGION`, default `eu-west-2`). */
  region?: string;
  /** Keys per account, its default key included (`OKMS_KEY_QUOTA`, default 20). */
  keyQuota?: number;
  /**
   * Encryptions per key version before okms rotates by itself
   * (`OKMS_MAX_ENCRYPTIONS_PER_VERSION`, default 2^30, at most 2^32).
   */
  maxEncryptionsPerVersion?: number;
  /** The PKCS#11 token; default: the embedded SoftHSM2 token. */
  pkcs11?: Pkcs11Options;
  /**
   * How CMK material is kept (`OKMS_KEY_MATERIAL`): `"wrapped"`, under a
   * domain key in the HSM, in the store (the default for a new data
   * directory: nothing per key is written to the token, and encryption is
   * faster), or `"token"`, each version a token object. A data directory
   * keeps the mode it was made with (one from before modes: `"token"`);
   * giving another is refused.
   */
  keyMaterial?: KeyMaterialMode;
  /**
   * The embedded token's user PIN file (`OKMS_PIN_FILE`). Default: the
   * systemd credential `okms-pin` (`$CREDENTIALS_DIRECTORY/okms-pin`) when
   * there is one, else `<dataDir>/pin`. Outside the data directory, a copy
   * of the directory does not open the keys. When a new token is made, the
   * PIN is read from this file, or made in it (random, mode 0600) if it is
   * missing. An external token's PIN file is `pkcs11.pinFile` instead.
   */
  pinFile?: string;
  /**
   * How often due deletions and rotations run (`OKMS_MAINTENANCE_INTERVAL_MS`,
   * default 60000); 0 turns the timer off (they still run at start-up).
   */
  maintenanceIntervalMs?: number;
  /** The clock, epoch milliseconds (tests inject one). */
  now?: () => number;
  /**
   * Open beside the process that owns the data directory instead of taking
   * it (default false). For administration: creating accounts and keys,
   * using keys and reading are allowed, with keys read afresh on every use;
   * changes to existing keys and aliases, and rotations, are left to the
   * owner (`UnsupportedOperationException`), whose caches they would miss.
   */
  beside?: boolean;
  /**
   * The shared metadata store of a cluster (`OKMS_DATABASE_URL`):
   * `postgres://user@host:port/db`, optionally `?schema=name`. Absent: the
   * data directory's SQLite file, for one node. With a database, any number
   * of okms processes (on one machine or several, each with its HSM and
   * data directory) serve the same keys; key material is then always
   * wrapped.
   */
  databaseUrl?: string;
  /**
   * With a database: how often this node reads the changes other nodes made
   * (`OKMS_CHANGE_POLL_MS`, default 250). A change made on any node takes
   * effect on every node within four times this (one second by default):
   * past that without a successful read, a node stops trusting its cache
   * and reads keys from the database.
   */
  changePollMs?: number;
}

/** Settings with every default applied. */
export interface OkmsConfig {
  dataDir: string;
  region: string;
  keyQuota: number;
  maxEncryptionsPerVersion: number;
  maintenanceIntervalMs: number;
  /** Candidate module paths, in order. */
  modulePaths: readonly string[];
  /**
   * External token, or undefined for the embedded one. A PIN given as a
   * value is never kept here (see {@linkcode literalPin}).
   */
  external?: { tokenLabel: string; pinFile?: string };
  /** The embedded token's PIN file; undefined with an external token. */
  embeddedPinFile?: string;
  /**
   * Whether the embedded token's PIN file is inside the data directory,
   * beside the token: a copy of the directory then opens every key.
   */
  pinBesideToken: boolean;
  viaFunctionList: boolean;
  /** The mode asked for, if any (see {@linkcode OkmsOptions.keyMaterial}). */
  keyMaterial?: KeyMaterialMode;
  now: () => number;
  beside: boolean;
  /** See {@linkcode OkmsOptions.databaseUrl}. */
  databaseUrl?: string;
  /** See {@linkcode OkmsOptions.changePollMs}. */
  changePollMs: number;
}

function env(name: string): string | undefined {
  return Deno.env.get(name) || undefined;
}

function integer(
  name: string,
  value: number | string | undefined,
  fallback: number,
  [min, max]: [number, number],
) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ValidationException(
      `${name} must be an integer from ${min} to ${max}`,
    );
  }
  return n;
}

function keyMaterial(
  value: string | undefined,
): KeyMaterialMode | undefined {
  if (value === undefined || value === "wrapped" || value === "token") {
    return value;
  }
  throw new ValidationException(
    `keyMaterial (OKMS_KEY_MATERIAL) is "wrapped" or "token", not "${value}"`,
  );
}

function databaseUrl(value: string | undefined): string | undefined {
  if (value === undefined || /^postgres(ql)?:\/\//.test(value)) return value;
  throw new ValidationException(
    "databaseUrl (OKMS_DATABASE_URL) is a postgres:// or postgresql:// URL",
  );
}

/** `$CREDENTIALS_DIRECTORY/okms-pin`, if systemd passed that credential. */
function pinCredential(): string | undefined {
  const dir = env("CREDENTIALS_DIRECTORY");
  if (dir === undefined) return undefined;
  try {
    return Deno.statSync(`${dir}/okms-pin`).isFile
      ? `${dir}/okms-pin`
      : undefined;
  } catch {
    return undefined; // no such credential
  }
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${SEPARATOR}`) &&
    !isAbsolute(rel);
}

/** The PIN given as a value (option or `OKMS_PKCS11_PIN`), read when needed. */
export function literalPin(options: OkmsOptions): string | undefined {
  return options.pkcs11?.pin ?? env("OKMS_PKCS11_PIN");
}

/**
 * Resolves options against the environment and defaults.
 *
 * @example
 * ```ts
 * const config = resolveConfig({ dataDir: "/var/lib/okms" });
 * ```
 */
export function resolveConfig(options: OkmsOptions = {}): OkmsConfig {
  const p11 = options.pkcs11 ?? {};
  const module = p11.module ?? env("OKMS_PKCS11_MODULE");
  const tokenLabel = p11.tokenLabel ?? env("OKMS_PKCS11_TOKEN_LABEL");
  const pin = p11.pin ?? env("OKMS_PKCS11_PIN");
  const pinFile = p11.pinFile ?? env("OKMS_PKCS11_PIN_FILE");
  if (
    (pin !== undefined || pinFile !== undefined) && tokenLabel === undefined
  ) {
    throw new ValidationException(
      "a PKCS#11 PIN needs a token label (OKMS_PKCS11_TOKEN_LABEL)",
    );
  }
  const external =
    tokenLabel === undefined || (pin === undefined && pinFile === undefined)
      ? undefined
      : { tokenLabel, pinFile: pin === undefined ? pinFile : undefined };
  const embeddedPin = options.pinFile ?? env("OKMS_PIN_FILE");
  if (external !== undefined && embeddedPin !== undefined) {
    throw new ValidationException(
      "--pin-file (OKMS_PIN_FILE) is the embedded token's PIN file; an external token's is --pkcs11-pin-file (OKMS_PKCS11_PIN_FILE)",
    );
  }
  const dataDir = options.dataDir ?? env("OKMS_DATA_DIR") ?? ".okms";
  const embeddedPinFile = external === undefined
    ? embeddedPin ?? pinCredential() ?? `${dataDir}/pin`
    : undefined;
  return {
    dataDir,
    region: options.region ?? env("OKMS_REGION") ?? "eu-west-2",
    keyQuota: integer(
      "keyQuota",
      options.keyQuota ?? env("OKMS_KEY_QUOTA"),
      20,
      [1, 100_000],
    ),
    maxEncryptionsPerVersion: integer(
      "maxEncryptionsPerVersion",
      options.maxEncryptionsPerVersion ??
        env("OKMS_MAX_ENCRYPTIONS_PER_VERSION"),
      2 ** 30,
      [1, NIST_RANDOM_IV_BOUND],
    ),
    maintenanceIntervalMs: integer(
      "maintenanceIntervalMs",
      options.maintenanceIntervalMs ?? env("OKMS_MAINTENANCE_INTERVAL_MS"),
      60_000,
      [0, 2 ** 31 - 1],
    ),
    modulePaths: module === undefined ? SOFTHSM2_MODULE_PATHS : [module],
    external,
    embeddedPinFile,
    pinBesideToken: embeddedPinFile !== undefined &&
      isInside(dataDir, embeddedPinFile),
    viaFunctionList: p11.viaFunctionList ?? false,
    keyMaterial: keyMaterial(options.keyMaterial ?? env("OKMS_KEY_MATERIAL")),
    now: options.now ?? Date.now,
    beside: options.beside ?? false,
    databaseUrl: databaseUrl(options.databaseUrl ?? env("OKMS_DATABASE_URL")),
    changePollMs: integer(
      "changePollMs",
      options.changePollMs ?? env("OKMS_CHANGE_POLL_MS"),
      250,
      [10, 60_000],
    ),
  };
}

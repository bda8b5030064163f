/**
 * Server settings: command-line flags, else `OKMS_*` environment variables,
 * else defaults. The library reads its own variables (`OKMS_DATA_DIR`,
 * `OKMS_REGION`, `OKMS_PKCS11_*`) when a flag does not set them.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { KeyMaterialMode, OkmsOptions } from "../mod.ts";

/** The server's settings. */
export interface ServerConfig {
  /** `--host` / `OKMS_HOST`; 127.0.0.1. */
  host: string;
  /** `--port` / `OKMS_PORT`; 8080 (0 picks a free port). */
  port: number;
  /** What `Okms.open` gets from flags; the rest comes from the environment. */
  okms: OkmsOptions;
  /** PEM certificate and key files (`--tls-cert`/`--tls-key`, `OKMS_TLS_CERT`/`OKMS_TLS_KEY`). */
  tls?: { certFile: string; keyFile: string };
  /** `--clock-skew-seconds` / `OKMS_CLOCK_SKEW_SECONDS`; 300. */
  clockSkewSeconds: number;
  /** `--audit-log` / `OKMS_AUDIT_LOG`: a file, or stdout when absent or `-`. */
  auditLog?: string;
  /** `--max-in-flight` / `OKMS_MAX_IN_FLIGHT`; 256. Past it: ThrottlingException. */
  maxInFlight?: number;
  /** `--account-rate-limit` / `OKMS_ACCOUNT_RATE_LIMIT`: requests per second per account; off. */
  accountRateLimit?: number;
  /** `--metrics-port` (and `--metrics-host`, 127.0.0.1): the Prometheus listener; off. */
  metrics?: { host: string; port: number };
  /**
   * `--reuse-port` / `OKMS_REUSE_PORT=1`: several processes listen on one
   * port and the kernel spreads connections among them (Linux
   * `SO_REUSEPORT`); with a database, one per core.
   */
  reusePort?: boolean;
}

/** The flags that choose the library's data directory, region and token. */
export const OKMS_FLAGS = {
  "data-dir": { type: "string" },
  "pin-file": { type: "string" },
  "key-material": { type: "string" },
  region: { type: "string" },
  "key-quota": { type: "string" },
  "max-encryptions-per-version": { type: "string" },
  "maintenance-interval-ms": { type: "string" },
  "database-url": { type: "string" },
  "change-poll-ms": { type: "string" },
  "pkcs11-module": { type: "string" },
  "pkcs11-token-label": { type: "string" },
  "pkcs11-pin-file": { type: "string" },
} as const satisfies ParseArgsConfig["options"];

const SERVER_FLAGS = {
  ...OKMS_FLAGS,
  host: { type: "string" },
  port: { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "clock-skew-seconds": { type: "string" },
  "audit-log": { type: "string" },
  "max-in-flight": { type: "string" },
  "account-rate-limit": { type: "string" },
  "metrics-host": { type: "string" },
  "metrics-port": { type: "string" },
  "insecure-http": { type: "boolean" },
  "reuse-port": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

/** Usage text of the server. */
export const SERVER_USAGE =
  `okms server: AWS KMS over HTTP, keys in a PKCS#11 token

deno task serve [flags]

  --host <addr>                 OKMS_HOST                 127.0.0.1
  --port <n>                    OKMS_PORT                 8080
  --region <name>               OKMS_REGION               eu-west-2
  --data-dir <dir>              OKMS_DATA_DIR             .okms
  --key-material <mode>         OKMS_KEY_MATERIAL         wrapped (new data directories) or token
  --pin-file <file>             OKMS_PIN_FILE             embedded token's PIN: $CREDENTIALS_DIRECTORY/okms-pin, else <data-dir>/pin
  --key-quota <n>               OKMS_KEY_QUOTA            20 keys per account (pending deletion included)
  --max-encryptions-per-version <n>
                                OKMS_MAX_ENCRYPTIONS_PER_VERSION  2^30, then okms rotates
  --maintenance-interval-ms <n> OKMS_MAINTENANCE_INTERVAL_MS  60000 (due deletions, rotations)
  --database-url <url>          OKMS_DATABASE_URL         <data-dir>/okms.db; postgres://… for a cluster
  --change-poll-ms <n>          OKMS_CHANGE_POLL_MS       250 (cluster: other nodes' changes apply within 4x)
  --pkcs11-module <path>        OKMS_PKCS11_MODULE        SoftHSM2
  --pkcs11-token-label <label>  OKMS_PKCS11_TOKEN_LABEL   embedded token
  --pkcs11-pin-file <file>      OKMS_PKCS11_PIN_FILE      (or OKMS_PKCS11_PIN)
  --tls-cert <pem>              OKMS_TLS_CERT             plain HTTP
  --tls-key <pem>               OKMS_TLS_KEY
  --clock-skew-seconds <n>      OKMS_CLOCK_SKEW_SECONDS   300
  --audit-log <file|->          OKMS_AUDIT_LOG            stdout
  --max-in-flight <n>           OKMS_MAX_IN_FLIGHT        256 requests, then ThrottlingException
  --account-rate-limit <n>      OKMS_ACCOUNT_RATE_LIMIT   off (requests per second per account)
  --metrics-port <n>            OKMS_METRICS_PORT         off (Prometheus text on GET /metrics)
  --metrics-host <addr>         OKMS_METRICS_HOST         127.0.0.1
  --insecure-http               OKMS_INSECURE_HTTP=1      plain HTTP beyond loopback
  --reuse-port                  OKMS_REUSE_PORT=1         share the port with other okms processes (Linux)
`;

/** Whether `host` (a name, an address, or a URL's `[v6]` hostname) is this machine only. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" ||
    /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A bad flag or variable; the message says which and why. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = (name: string) => string | undefined;

function integer(name: string, text: string, min: number, max: number) {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

/**
 * Parses `args` against flag `options` (strict: an unknown flag is an error).
 *
 * @throws {ConfigError} on unknown flags or a flag without its value.
 */
export function parseFlags<const F extends ParseArgsConfig["options"]>(
  args: string[],
  options: F,
): {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
} {
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
    });
    return {
      values: values as Record<string, string | boolean | undefined>,
      positionals,
    };
  } catch (error) {
    const unknown = /Unknown option '([^']+)'/.exec((error as Error).message);
    throw new ConfigError(
      unknown
        ? `unknown flag ${unknown[1]} (see --help)`
        : (error as Error).message,
    );
  }
}

function keyMaterial(value: string | undefined): KeyMaterialMode | undefined {
  if (value === undefined || value === "wrapped" || value === "token") {
    return value;
  }
  throw new ConfigError("--key-material must be wrapped or token");
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

/**
 * The library options the {@linkcode OKMS_FLAGS} give.
 *
 * @example
 * ```ts
 * const { values } = parseFlags(Deno.args, OKMS_FLAGS);
 * const okms = await Okms.open(okmsOptions(values));
 * ```
 */
export function okmsOptions(
  values: Record<string, string | boolean | undefined>,
): OkmsOptions {
  const text = (name: string) => values[name] as string | undefined;
  // The library checks each number's range; here only its form.
  const whole = (name: string) => {
    const value = text(name);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) {
      throw new ConfigError(`--${name} must be a whole number`);
    }
    return Number(value);
  };
  const numbers = {
    keyQuota: whole("key-quota"),
    maxEncryptionsPerVersion: whole("max-encryptions-per-version"),
    maintenanceIntervalMs: whole("maintenance-interval-ms"),
    changePollMs: whole("change-poll-ms"),
  };
  const pkcs11 = {
    module: text("pkcs11-module"),
    tokenLabel: text("pkcs11-token-label"),
    pinFile: text("pkcs11-pin-file"),
  };
  return {
    dataDir: text("data-dir"),
    region: text("region"),
    ...definedOnly({
      ...numbers,
      pinFile: text("pin-file"),
      databaseUrl: text("database-url"),
      keyMaterial: keyMaterial(text("key-material")),
    }),
    ...(Object.values(pkcs11).some((v) => v !== undefined) ? { pkcs11 } : {}),
  };
}

/**
 * The server's settings from flags and variables.
 *
 * @throws {ConfigError} on unknown flags or bad values.
 * @example
 * ```ts
 * const config = serverConfig(["--port", "9000"]);
 * ```
 */
export function serverConfig(
  args: string[],
  env: Env = (name) => Deno.env.get(name) || undefined,
): ServerConfig | "help" {
  const { values, positionals } = parseFlags(args, SERVER_FLAGS);
  if (values.help) return "help";
  if (positionals.length > 0) {
    throw new ConfigError(`unexpected argument ${positionals[0]}`);
  }
  const pick = (flag: string, variable: string) =>
    (values[flag] as string | undefined) ?? env(variable);
  const certFile = pick("tls-cert", "OKMS_TLS_CERT");
  const keyFile = pick("tls-key", "OKMS_TLS_KEY");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError("TLS needs both a certificate and a key");
  }
  const host = pick("host", "OKMS_HOST") ?? "127.0.0.1";
  const insecure = values["insecure-http"] === true ||
    env("OKMS_INSECURE_HTTP") === "1";
  if (certFile === undefined && !isLoopback(host) && !insecure) {
    throw new ConfigError(
      `refusing plain HTTP on ${host}: plaintexts and data keys would cross the network in clear. ` +
        "Give --tls-cert and --tls-key, or --insecure-http if a TLS proxy sits in front.",
    );
  }
  return {
    host,
    port: integer("port", pick("port", "OKMS_PORT") ?? "8080", 0, 65535),
    okms: okmsOptions(values),
    ...(certFile && keyFile ? { tls: { certFile, keyFile } } : {}),
    clockSkewSeconds: integer(
      "clock skew seconds",
      pick("clock-skew-seconds", "OKMS_CLOCK_SKEW_SECONDS") ?? "300",
      1,
      3600,
    ),
    auditLog: pick("audit-log", "OKMS_AUDIT_LOG"),
    maxInFlight: integer(
      "max in flight",
      pick("max-in-flight", "OKMS_MAX_IN_FLIGHT") ?? "256",
      1,
      1_000_000,
    ),
    accountRateLimit: optionalInteger(
      "account rate limit",
      pick("account-rate-limit", "OKMS_ACCOUNT_RATE_LIMIT"),
    ),
    ...metricsListener(
      pick("metrics-host", "OKMS_METRICS_HOST"),
      pick("metrics-port", "OKMS_METRICS_PORT"),
    ),
    reusePort: reusePort(
      values["reuse-port"] === true || env("OKMS_REUSE_PORT") === "1",
      pick("database-url", "OKMS_DATABASE_URL"),
    ),
  };
}

/** `--reuse-port` only for cluster nodes: other processes serve other keys. */
function reusePort(wanted: boolean, databaseUrl: string | undefined): boolean {
  if (wanted && databaseUrl === undefined) {
    throw new ConfigError(
      "--reuse-port spreads requests over processes that must serve the same keys: give them one --database-url (OKMS_DATABASE_URL)",
    );
  }
  return wanted;
}

function optionalInteger(name: string, text: string | undefined) {
  return text === undefined ? undefined : integer(name, text, 1, 1_000_000);
}

function metricsListener(
  host: string | undefined,
  port: string | undefined,
): Pick<ServerConfig, "metrics"> {
  if (port === undefined) {
    if (host !== undefined) {
      throw new ConfigError("--metrics-host needs --metrics-port");
    }
    return {};
  }
  return {
    metrics: {
      host: host ?? "127.0.0.1",
      port: integer("metrics port", port, 0, 65535),
    },
  };
}

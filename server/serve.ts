/**
 * `startServer`: opens okms and its access keys, creates the first access
 * key on first start, and serves the app until shut down.
 * @module
 */
import { describeDatabase } from "../lib/store/postgres_url.ts";
import { Okms } from "../mod.ts";
import { createApp } from "./app.ts";
import { AuditLog } from "./audit.ts";
import { ConfigError, isLoopback, type ServerConfig } from "./config.ts";
import { Listener } from "./listener.ts";
import { Metrics, metricsHandler } from "./metrics.ts";
import { AccountRateLimit, InFlightLimit } from "./throttling.ts";
import {
  Credentials,
  type NewAccessKey,
  openAccessKeys,
} from "./credentials.ts";

/** A running server. */
export interface RunningServer extends AsyncDisposable {
  /** Where it listens, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Where Prometheus scrapes, when the metrics listener is on. */
  readonly metricsUrl?: string;
  readonly okms: Okms;
  readonly credentials: Credentials;
  /** The access key made on first start, if this was the first start. */
  readonly firstAccessKey?: NewAccessKey;
  /** Stops accepting, finishes in-flight requests, then closes the audit log, the access keys and okms. Idempotent. */
  shutdown(): Promise<void>;
}

const FIRST_START_DONE = "first_start_done";

/** The shared-credentials file written on first start. */
function credentialsFilePath(dataDir: string): string {
  return `${dataDir}/credentials`;
}

async function firstStart(
  okms: Okms,
  credentials: Credentials,
): Promise<NewAccessKey | undefined> {
  if (await credentials.store.meta(FIRST_START_DONE) !== undefined) {
    return undefined;
  }
  const key = await credentials.createAccessKey(okms.accountId);
  try {
    await Deno.writeTextFile(
      credentialsFilePath(okms.config.dataDir),
      [
        `# okms access key of account ${key.accountId}, made on first start.`,
        "# Keep it somewhere safe, then delete this file.",
        "[default]",
        `aws_access_key_id = ${key.accessKeyId}`,
        `aws_secret_access_key = ${key.secretAccessKey}`,
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    await credentials.store.initMeta(
      FIRST_START_DONE,
      new Date().toISOString(),
    );
  } catch (error) {
    // Nobody saw its secret: it must not stay active.
    await credentials.revokeAccessKey(key.accessKeyId);
    throw error;
  }
  return key;
}

/** What the banner tells of a start. */
interface BannerFacts {
  url: string;
  okms: Okms;
  defaultKeyArn: string;
  first: NewAccessKey | undefined;
  auditLog: string | undefined;
  metricsUrl: string | undefined;
}

async function banner(facts: BannerFacts): Promise<string> {
  const { okms, defaultKeyArn, first } = facts;
  const { dataDir, region, databaseUrl } = okms.config;
  const { token } = okms;
  const lines = [
    `okms listening on ${facts.url} (region ${region}, data in ${dataDir}, process ${Deno.pid})`,
    `HSM: ${
      token.embedded ? "embedded SoftHSM2 token" : `token "${token.label}"`
    } (serial ${token.serialNumber}, ${token.modulePath})`,
  ];
  if (databaseUrl !== undefined) {
    lines.push(
      `Cluster node: keys and access keys in ${
        describeDatabase(databaseUrl)
      }, shared with every node on it`,
    );
  }
  if (
    facts.metricsUrl !== undefined &&
    !isLoopback(new URL(facts.metricsUrl).hostname)
  ) {
    lines.push(
      "WARNING: the metrics listener is beyond loopback, without authentication: firewall it.",
    );
  }
  if (okms.config.pinBesideToken) {
    lines.push(
      `WARNING: the token's PIN is stored beside it (${okms.config.embeddedPinFile}): a copy of ${dataDir} opens every key. Keep it elsewhere with --pin-file.`,
    );
  }
  if (
    facts.url.startsWith("http:") && !isLoopback(new URL(facts.url).hostname)
  ) {
    lines.push(
      "WARNING: plain HTTP beyond loopback (--insecure-http): only behind a TLS proxy.",
    );
  }
  // A wildcard address is where to listen, not where to connect.
  const url = facts.url.replace(/\/\/(0\.0\.0\.0|\[::\])(?=:)/, "//127.0.0.1");
  const file = credentialsFilePath(dataDir);
  const fileLeft = first !== undefined || await exists(file);
  if (first !== undefined) {
    lines.push(
      `First start: account ${first.accountId}, access key ${first.accessKeyId}; its secret is in ${file} (mode 0600): keep it elsewhere and delete the file.`,
    );
  } else if (fileLeft) {
    lines.push(
      `Reminder: ${file} still holds a secret key; move it elsewhere and delete the file.`,
    );
  }
  const credentials = fileLeft
    ? `AWS_SHARED_CREDENTIALS_FILE=${file} `
    : "(with your access key in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) ";
  lines.push(
    `Default key of account ${okms.accountId}: ${defaultKeyArn}`,
    "Try:",
    "  echo hello > secret.txt",
    `  ${credentials}aws kms encrypt --endpoint-url ${url} --region ${region} --key-id ${defaultKeyArn} --plaintext fileb://secret.txt`,
    `Audit log: ${
      facts.auditLog === undefined || facts.auditLog === "-"
        ? "stdout"
        : facts.auditLog
    } (one JSON line per request)`,
    `Health: GET ${url}/health${
      facts.metricsUrl ? `; metrics: GET ${facts.metricsUrl}` : ""
    }`,
  );
  const where = (dataDir === ".okms" ? "" : ` --data-dir ${dataDir}`) +
    (databaseUrl === undefined ? "" : " --database-url <the same URL>");
  lines.push(
    `Access keys: npx -y deno@2.9.6 task admin list-access-keys${where}` +
      " (also create-access-key, create-account, revoke-access-key <id>)",
    `Stop: Ctrl-C, or kill -TERM ${Deno.pid} (signals to npx do not reach this process)`,
  );
  return lines.join("\n");
}

/** Where to listen, and the flag that says so (for errors). */
interface Address {
  host: string;
  port: number;
  portFlag: "--port" | "--metrics-port";
}

function listen(
  config: ServerConfig,
  at: Address,
  tls: { cert: string; key: string } | undefined,
  handler: Deno.ServeHandler<Deno.NetAddr>,
): Listener {
  try {
    return Listener.serve({
      hostname: at.host,
      port: at.port,
      reusePort: at.portFlag === "--port" && config.reusePort === true,
      ...tls,
    }, handler);
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new ConfigError(
        `${at.host}:${at.port} is already in use; choose another ${at.portFlag} (0 = any free port)`,
      );
    }
    if (tls !== undefined && config.tls !== undefined) {
      const { certFile, keyFile } = config.tls;
      throw new ConfigError(
        `TLS cannot start with --tls-cert ${certFile} and --tls-key ${keyFile} (${
          /KeyMismatch|consistent/i.test((error as Error).message)
            ? "the key is not the certificate's"
            : (error as Error).message
        })`,
      );
    }
    throw error;
  }
}

/**
 * How long a stop waits for requests in flight (a body that has not arrived
 * is cut off after 10 s anyway) before it closes okms regardless.
 */
export const SHUTDOWN_GRACE_MS = 15_000;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

const PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----";
const PEM_PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

/**
 * The PEM files of `--tls-cert`/`--tls-key`, read and checked for the right
 * kind of PEM block before anything else is touched.
 */
async function readTls(
  tls: ServerConfig["tls"],
): Promise<{ cert: string; key: string } | undefined> {
  if (tls === undefined) return undefined;
  const read = (flag: string, path: string) =>
    Deno.readTextFile(path).catch((error) => {
      throw new ConfigError(
        `cannot read ${flag} ${path}: ${(error as Error).message}`,
      );
    });
  const cert = await read("--tls-cert", tls.certFile);
  const key = await read("--tls-key", tls.keyFile);
  const swapped = !cert.includes(PEM_CERTIFICATE) &&
      key.includes(PEM_CERTIFICATE)
    ? " (are --tls-cert and --tls-key swapped?)"
    : "";
  if (!cert.includes(PEM_CERTIFICATE)) {
    throw new ConfigError(
      `--tls-cert ${tls.certFile} holds no PEM certificate${swapped}`,
    );
  }
  if (!PEM_PRIVATE_KEY.test(key)) {
    throw new ConfigError(
      `--tls-key ${tls.keyFile} holds no PEM private key${
        PEM_PRIVATE_KEY.test(cert)
          ? " (the key is in --tls-cert: give the certificate there)"
          : ""
      }`,
    );
  }
  return { cert, key };
}

/**
 * Starts the server as `config` says and returns it running.
 *
 * @example
 * ```ts
 * await using server = await startServer({ ...config, port: 0 });
 * console.log(server.url);
 * ```
 */
export async function startServer(
  config: ServerConfig,
  log: (message: string) => void = console.error,
): Promise<RunningServer> {
  const closers: (() => unknown)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close();
  };
  try {
    const tls = await readTls(config.tls);
    const okms = await Okms.open(config.okms);
    closers.push(() => okms.close());
    // Once per cluster: its internal account, sealing key and first key.
    const credentials = await okms.setUpOnce(async () =>
      Credentials.open(okms, await openAccessKeys(okms.config), { warn: log })
    );
    closers.push(() => credentials.close());
    const audit = await AuditLog.open(config.auditLog);
    closers.push(() => audit.close());
    const inFlight = new InFlightLimit(config.maxInFlight ?? 256);
    const metrics = config.metrics && new Metrics(() => inFlight.current);
    if (metrics !== undefined) {
      okms.observeHsmCalls((call, seconds) => metrics.hsmCall(call, seconds));
    }
    const app = createApp({
      okms,
      credentials,
      audit: (record) => audit.write(record),
      clockSkewSeconds: config.clockSkewSeconds,
      faultLog: log,
      inFlight,
      accountRate: config.accountRateLimit === undefined
        ? undefined
        : new AccountRateLimit(
          config.accountRateLimit,
          () => performance.now(),
        ),
      metrics,
    });
    const server = listen(
      config,
      { host: config.host, port: config.port, portFlag: "--port" },
      tls,
      app.fetch,
    );
    closers.push(() => server.stop(SHUTDOWN_GRACE_MS));
    const metricsServer = metrics && listen(
      config,
      { ...config.metrics!, portFlag: "--metrics-port" },
      undefined,
      metricsHandler(metrics),
    );
    if (metricsServer !== undefined) {
      closers.push(() => metricsServer.stop(SHUTDOWN_GRACE_MS));
    }
    // Only once the port is ours, so a failed start leaves no unseen key.
    const firstAccessKey = await okms.setUpOnce(() =>
      firstStart(okms, credentials)
    );
    const url = server.url(tls ? "https" : "http");
    const metricsUrl = metricsServer &&
      `${metricsServer.url("http")}/metrics`;
    log(
      await banner({
        url,
        okms,
        defaultKeyArn: (await okms.defaultKey()).arn,
        first: firstAccessKey,
        auditLog: config.auditLog,
        metricsUrl,
      }),
    );
    let stopping: Promise<void> | undefined;
    const shutdown = () => stopping ??= closeAll();
    return {
      url,
      metricsUrl,
      okms,
      credentials,
      firstAccessKey,
      shutdown,
      [Symbol.asyncDispose]: shutdown,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

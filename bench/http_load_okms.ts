/**
 * The okms server of the HTTP benchmark: `server/main.ts` started as a
 * {@linkcode ServerProcess} on loopback, audit log to a file, SigV4 on, and
 * what the benchmark needs of it: its URL, region, default key and the
 * first access key (from the data directory's `credentials` file).
 * @module
 */
import type { LoadRequest } from "./http_load_client.ts";
import { type Operation, requestBody } from "./http_load_ops.ts";
import { ServerProcess } from "./http_load_server.ts";
import { KmsSigner } from "./http_load_signer.ts";
import type { Role } from "./pinning.ts";

const SERVER = new URL("../server/main.ts", import.meta.url).pathname;

/** Where requests go and who signs them. */
export type Signing = Omit<LoadRequest, "target" | "body">;

/** How to start one okms server. */
export interface OkmsOptions {
  /** Its data directory; the first start there writes `credentials`. */
  dataDir: string;
  auditLog: string;
  /** Its port; 0 (the default) for any free one. */
  port?: number;
  /** Where it runs (server 0 by default). */
  role?: Role;
  /** More server flags, e.g. `["--database-url", url, "--reuse-port"]`. */
  flags?: string[];
  /** Deno flags, e.g. `["--cpu-prof"]`. */
  denoFlags?: string[];
}

/** A running okms server: its process, the default key, an access key. */
export interface OkmsServer extends Signing {
  server: ServerProcess;
  /** The ARN of its account's default key. */
  keyId: string;
}

function iniValue(text: string, name: string): string {
  const m = new RegExp(`^${name} = (\\S+)$`, "m").exec(text);
  if (m === null) throw new Error(`the credentials file has no ${name}`);
  return m[1];
}

/**
 * Starts okms as `options` say and waits for its banner.
 *
 * @throws {Error} with its stderr when it does not start.
 * @example
 * ```ts
 * const okms = await startOkms({ dataDir: `${dir}/data`, auditLog: `${dir}/audit.log` });
 * console.log(okms.url, okms.keyId);
 * await okms.server.stop();
 * ```
 */
export async function startOkms(options: OkmsOptions): Promise<OkmsServer> {
  const listening = /listening on (\S+) \(region ([^,)]+)/;
  const keyArn = /arn:aws:kms:\S+:key\/[0-9a-f-]+/;
  const server = await ServerProcess.start(
    [
      "run",
      "--allow-ffi",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      ...options.denoFlags ?? [],
      SERVER,
      "--data-dir",
      options.dataDir,
      "--host",
      "127.0.0.1",
      "--port",
      String(options.port ?? 0),
      "--audit-log",
      options.auditLog,
      ...options.flags ?? [],
    ],
    (banner) => listening.test(banner) && keyArn.test(banner),
    options.role,
  );
  try {
    const [, url, region] = listening.exec(server.banner)!;
    const ini = await Deno.readTextFile(`${options.dataDir}/credentials`);
    return {
      server,
      url,
      region,
      keyId: keyArn.exec(server.banner)![0],
      accessKeyId: iniValue(ini, "aws_access_key_id"),
      secretAccessKey: iniValue(ini, "aws_secret_access_key"),
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** One signed Encrypt from this process: the ciphertext Decrypt sends. */
async function ciphertextOf(okms: OkmsServer): Promise<Uint8Array> {
  const body = requestBody("Encrypt", okms);
  const response = await fetch(`${okms.url}/`, {
    method: "POST",
    headers: new KmsSigner({ ...okms, host: new URL(okms.url).host })
      .sign("TrentService.Encrypt", new TextEncoder().encode(body)),
    body,
  });
  const answer = await response.json();
  if (!response.ok) {
    throw new Error(`Encrypt failed: ${JSON.stringify(answer)}`);
  }
  return Uint8Array.fromBase64(answer.CiphertextBlob);
}

/**
 * The load request of each of `operations` on `okms`'s default key,
 * signed with its access key. Decrypt's ciphertext comes from one Encrypt
 * sent now.
 *
 * @example
 * ```ts
 * const requests = await requestsOf(okms, ["Encrypt", "Decrypt"]);
 * await client({ ...requests.get("Decrypt")!, connections: 64, seconds: 5 });
 * ```
 */
export async function requestsOf(
  okms: OkmsServer,
  operations: readonly Operation[],
): Promise<Map<Operation, LoadRequest>> {
  const { url, region, accessKeyId, secretAccessKey, keyId } = okms;
  const ciphertextBlob = operations.includes("Decrypt")
    ? await ciphertextOf(okms)
    : undefined;
  return new Map(operations.map((operation) => [operation, {
    url,
    region,
    accessKeyId,
    secretAccessKey,
    target: `TrentService.${operation}`,
    body: requestBody(operation, { keyId, ciphertextBlob }),
  }]));
}

/**
 * Stops `okms` and prints its last stderr lines when it exits badly.
 *
 * @example
 * ```ts
 * await stopOkms(okms);
 * ```
 */
export async function stopOkms(okms: OkmsServer): Promise<void> {
  const status = await okms.server.stop();
  if (!status.success) {
    console.log(
      `okms server pid ${okms.server.pid} exit ${status.code}:\n` +
        okms.server.log.join("\n"),
    );
  }
}

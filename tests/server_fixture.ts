/**
 * A server test's fixture: okms on a fresh data directory (see
 * `openTestOkms`), its access keys, and one access key of the default
 * account, all closed and removed on dispose.
 * @module
 */
import { AccessKeyStore } from "../server/access_key_store.ts";
import {
  accessKeyDbPath,
  Credentials,
  type CredentialsOptions,
  type NewAccessKey,
} from "../server/credentials.ts";
import { type RunningServer, startServer } from "../server/serve.ts";
import { openTestOkms, type TestOkms } from "./helpers.ts";

/** What {@linkcode openTestCredentials} gives. */
export interface TestCredentials extends TestOkms {
  credentials: Credentials;
  /** An access key of the default account. */
  key: NewAccessKey;
}

/**
 * Opens okms with its access keys and makes one access key.
 *
 * @example
 * ```ts
 * await using t = await openTestCredentials();
 * const app = createApp({ okms: t.okms, credentials: t.credentials });
 * ```
 */
export async function openTestCredentials(
  options: CredentialsOptions = {},
): Promise<TestCredentials> {
  const fixture = await openTestOkms();
  const credentials = await Credentials.open(
    fixture.okms,
    AccessKeyStore.open(accessKeyDbPath(fixture.dataDir)),
    options,
  );
  const key = await credentials.createAccessKey(fixture.okms.accountId);
  return {
    ...fixture,
    credentials,
    key,
    async [Symbol.asyncDispose]() {
      await credentials.close();
      await fixture[Symbol.asyncDispose]();
    },
  };
}

/** A real server for a test, and how to stop it and remove its data. */
export interface TestServer {
  server: RunningServer;
  dataDir: string;
  /** Shuts the server down and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * Starts the real server on a fresh data directory (`prefix` names it) and
 * a free loopback port, its audit log in that directory, region eu-west-2;
 * its first access key is `server.firstAccessKey`.
 *
 * @example
 * ```ts
 * const { server, stop } = await startTestServer("okms-my-test-");
 * try { await fetch(server.url); } finally { await stop(); }
 * ```
 */
export async function startTestServer(prefix: string): Promise<TestServer> {
  const dataDir = await Deno.makeTempDir({ prefix });
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    okms: { dataDir, region: "eu-west-2" },
    clockSkewSeconds: 300,
    auditLog: `${dataDir}/audit.log`,
  }, () => {});
  return {
    server,
    dataDir,
    async stop() {
      await server.shutdown();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

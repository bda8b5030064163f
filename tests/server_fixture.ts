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

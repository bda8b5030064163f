/**
 * The admin CLI: `deno task admin <command>`. Prints JSON on stdout for
 * scripts. Every command works while the server runs: it opens okms beside
 * the server (creating accounts, keys and access keys is safe there), and
 * the server sees new access keys and revocations on its next request.
 * @module
 */
import { Okms } from "../mod.ts";
import { AccessKeyStore } from "./access_key_store.ts";
import { ConfigError, OKMS_FLAGS, okmsOptions, parseFlags } from "./config.ts";
import { accessKeyDbPath, Credentials } from "./credentials.ts";

/** Usage text of the admin CLI. */
export const ADMIN_USAGE =
  `okms admin: accounts and access keys (JSON on stdout)

deno task admin <command> [--data-dir <dir>] [--region <name>] [--pkcs11-* ...]

  create-account                     a new account, its default key and an access key
  create-access-key [--account <id>] an access key (default: the default account)
  list-access-keys [--account <id>]  access keys, never their secrets
  revoke-access-key <access-key-id>  revokes at once, also on a running server
  list-accounts                      account ids and default key ARNs, the default first

Every command works beside a running server, which sees its effects at once.
Dates are epoch milliseconds.
`;

const COMMANDS = [
  "create-account",
  "create-access-key",
  "list-access-keys",
  "revoke-access-key",
  "list-accounts",
];

const ADMIN_FLAGS = {
  ...OKMS_FLAGS,
  account: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = Record<string, string | boolean | undefined>;

function dataDir(values: Values): string {
  return (values["data-dir"] as string | undefined) ??
    (Deno.env.get("OKMS_DATA_DIR") || ".okms");
}

/**
 * Refuses a data directory that does not exist (a typo must not make a new
 * KMS) or cannot be read, saying which.
 */
async function requireDataDir(dir: string): Promise<void> {
  const database = `${dir}/okms.db`;
  try {
    await Deno.open(database, { read: true }).then((file) => file.close());
    return;
  } catch (error) {
    if (error instanceof Deno.errors.PermissionDenied) {
      const owner = await Deno.stat(dir).then((s) => s.uid, () => null);
      throw new ConfigError(
        `cannot read the okms data directory ${dir}: permission denied${
          owner === null
            ? ""
            : ` (it belongs to uid ${owner}: run as that user)`
        }`,
      );
    }
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new ConfigError(
        `cannot read ${database}: ${(error as Error).message}`,
      );
    }
  }
  const isDir = await Deno.stat(dir).then((s) => s.isDirectory, () => false);
  throw new ConfigError(
    isDir
      ? `${dir} is not an okms data directory (it has no okms.db): start the server on it first, or give the right --data-dir`
      : `no okms data directory at ${dir}: start the server first, or give --data-dir`,
  );
}

async function withCredentials<T>(
  values: Values,
  use: (okms: Okms, credentials: Credentials) => Promise<T>,
): Promise<T> {
  await using okms = await Okms.open({ ...okmsOptions(values), beside: true });
  using credentials = await Credentials.open(
    okms,
    AccessKeyStore.open(accessKeyDbPath(okms.config.dataDir)),
  );
  return await use(okms, credentials);
}

function withStore<T>(values: Values, use: (store: AccessKeyStore) => T): T {
  using store = AccessKeyStore.open(accessKeyDbPath(dataDir(values)));
  return use(store);
}

/**
 * Runs one admin command; returns what to print as JSON.
 *
 * @throws {ConfigError} on a bad command line.
 * @example
 * ```ts
 * const key = await runAdmin(["create-access-key", "--data-dir", ".okms"]);
 * ```
 */
export async function runAdmin(args: string[]): Promise<unknown> {
  const { values, positionals } = parseFlags(args, ADMIN_FLAGS);
  const [command, ...rest] = positionals;
  const account = values.account as string | undefined;
  if (values.help) return ADMIN_USAGE;
  if (command === undefined) throw new ConfigError("which command?");
  if (!COMMANDS.includes(command)) {
    throw new ConfigError(`unknown command ${command}`);
  }
  await requireDataDir(dataDir(values));
  if (rest.length > (command === "revoke-access-key" ? 1 : 0)) {
    throw new ConfigError(`unexpected argument ${rest.at(-1)}`);
  }
  switch (command) {
    case "create-account":
      return await withCredentials(values, async (okms, credentials) => {
        const created = await okms.createAccount();
        const key = await credentials.createAccessKey(created.accountId);
        return { ...key, defaultKeyArn: (await created.defaultKey()).arn };
      });
    case "create-access-key":
      return await withCredentials(
        values,
        (okms, credentials) =>
          credentials.createAccessKey(account ?? okms.accountId),
      );
    case "list-access-keys":
      if (account !== undefined) {
        await withCredentials(values, (okms) => okms.account(account));
      }
      return withStore(values, (store) => store.list(account));
    case "revoke-access-key": {
      const id = rest[0];
      if (id === undefined) throw new ConfigError("which access key?");
      return withStore(values, (store) => store.revoke(id, Date.now()));
    }
    case "list-accounts":
      return await withCredentials(values, async (okms, credentials) => {
        const ids = (await okms.listAccounts()).filter((id) =>
          id !== credentials.internalAccountId
        );
        return await Promise.all(ids.map(async (accountId) => ({
          accountId,
          defaultKeyArn:
            (await (await okms.account(accountId)).defaultKey()).arn,
        })));
      });
    default:
      throw new ConfigError(`unknown command ${command}`); // kept in step with COMMANDS
  }
}

if (import.meta.main) {
  try {
    const result = await runAdmin(Deno.args);
    console.log(
      typeof result === "string" ? result : JSON.stringify(result, null, 2),
    );
  } catch (error) {
    const usage = error instanceof ConfigError ? `\n\n${ADMIN_USAGE}` : "";
    console.error(`okms admin: ${(error as Error).message}${usage}`);
    Deno.exit(error instanceof ConfigError ? 2 : 1);
  }
}

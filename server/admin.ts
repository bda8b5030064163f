/**
 * The admin CLI: `deno task admin <command>`. Prints JSON on stdout for
 * scripts. Every command works while the server runs: it opens okms beside
 * the server (creating accounts, keys and access keys is safe there), and
 * the server sees new access keys at once and revocations within a second.
 * @module
 */
import { type OkmsConfig, resolveConfig } from "../lib/config.ts";
import type { AccessKeys } from "../lib/store/access_keys.ts";
import { Okms } from "../mod.ts";
import { ConfigError, OKMS_FLAGS, okmsOptions, parseFlags } from "./config.ts";
import { admissionStep } from "./cluster_admission.ts";
import { Credentials, openAccessKeys } from "./credentials.ts";

/** Usage text of the admin CLI. */
export const ADMIN_USAGE =
  `okms admin: accounts and access keys (JSON on stdout)

deno task admin <command> [--data-dir <dir>] [--database-url <url>] [--region <name>] [--pkcs11-* ...]

  create-account                     a new account, its default key and an access key
  create-access-key [--account <id>] an access key (default: the default account)
  list-access-keys [--account <id>]  access keys, never their secrets
  revoke-access-key <access-key-id>  revokes for good; running servers refuse it within a second
  list-accounts                      account ids and default key ARNs, the default first

A new machine's HSM joins a cluster (--database-url) in three steps:
  transfer-request --out <file>      on the new machine: its transfer key; prints a fingerprint
  transfer-grant --in <file> --out <file> --fingerprint <f>
                                     on a cluster machine: the domain keys, wrapped to that key
                                     (the fingerprint the new machine printed, read out of band)
  transfer-accept --in <file>        on the new machine: unwraps them; its HSM is then admitted

Every command works beside a running server, which sees new access keys at
once and revocations within a second. With --database-url (OKMS_DATABASE_URL),
the access keys are a cluster's, in PostgreSQL: list-access-keys and
revoke-access-key then need no data directory; the other commands use the
data directory's HSM token, as a node does.
Dates are epoch milliseconds.
`;

const COMMANDS = [
  "create-account",
  "create-access-key",
  "list-access-keys",
  "revoke-access-key",
  "list-accounts",
  "transfer-request",
  "transfer-grant",
  "transfer-accept",
];

/** The file flags each step of a domain key transfer needs. */
const TRANSFER_FILES = {
  "transfer-request": ["out"],
  "transfer-grant": ["in", "out", "fingerprint"],
  "transfer-accept": ["in"],
} as const;

const ADMIN_FLAGS = {
  ...OKMS_FLAGS,
  account: { type: "string" },
  in: { type: "string" },
  out: { type: "string" },
  fingerprint: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = Record<string, string | boolean | undefined>;

/**
 * Refuses a data directory that does not exist (a typo must not make a new
 * KMS, or a new HSM token beside a cluster's database) or cannot be read,
 * saying which. Without a database it must hold okms.db.
 */
async function requireDataDir(config: OkmsConfig): Promise<void> {
  const dir = config.dataDir;
  const isDir = await Deno.stat(dir).then((s) => s.isDirectory, () => false);
  if (config.databaseUrl !== undefined) {
    if (isDir) return;
    throw new ConfigError(
      `no okms data directory at ${dir}: start a node on it first, or give --data-dir`,
    );
  }
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
  await using credentials = await Credentials.open(
    okms,
    await openAccessKeys(okms.config),
  );
  return await use(okms, credentials);
}

async function withStore<T>(
  config: OkmsConfig,
  use: (store: AccessKeys) => Promise<T>,
): Promise<T> {
  await using store = await openAccessKeys(config);
  return await use(store);
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
  const config = resolveConfig(okmsOptions(values));
  // Only the access key table: a cluster's needs no data directory.
  const tableOnly = command === "revoke-access-key" ||
    (command === "list-access-keys" && account === undefined);
  // A new machine's first step makes its data directory.
  const joining = command === "transfer-request";
  if (!joining && (config.databaseUrl === undefined || !tableOnly)) {
    await requireDataDir(config);
  }
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
      return await withStore(config, (store) => store.list(account));
    case "revoke-access-key": {
      const id = rest[0];
      if (id === undefined) throw new ConfigError("which access key?");
      return await withStore(config, (store) => store.revoke(id, Date.now()));
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
    case "transfer-request":
    case "transfer-grant":
    case "transfer-accept":
      for (const flag of TRANSFER_FILES[command]) {
        if (values[flag] === undefined) {
          throw new ConfigError(`${command} needs --${flag} <file>`);
        }
      }
      return await admissionStep(command, okmsOptions(values), {
        inFile: values.in as string | undefined,
        outFile: values.out as string | undefined,
        fingerprint: values.fingerprint as string | undefined,
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
    const cause = (error as Error).cause;
    const detail = cause instanceof Error ? ` (${cause.message})` : "";
    console.error(`okms admin: ${(error as Error).message}${detail}${usage}`);
    Deno.exit(error instanceof ConfigError ? 2 : 1);
  }
}

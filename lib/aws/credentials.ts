/**
 * AWS credentials and region found as AWS tools find them: the environment
 * first, then the shared files (`~/.aws/credentials`, `~/.aws/config`).
 * Errors name the places looked at, never a secret.
 * @module
 */
import type { AwsCredentials } from "./sigv4_signer.ts";

/** Reads an environment variable; an empty value counts as unset. */
export type Env = (name: string) => string | undefined;

/** What {@linkcode resolveAwsSettings} found. */
export interface AwsSettings {
  credentials: AwsCredentials;
  region: string;
}

/** No credentials or no region anywhere AWS tools look. */
export class AwsSettingsError extends Error {
  override name = "AwsSettingsError";
}

const processEnv: Env = (name) => Deno.env.get(name) || undefined;

/** The `[section]`s of an INI file, their keys lower case. */
function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*([^\]]*?)\s*\]$/.exec(line);
    if (header !== null) {
      current = sections.get(header[1]) ?? new Map();
      sections.set(header[1], current);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq > 0 && current !== undefined) {
      current.set(
        line.slice(0, eq).trim().toLowerCase(),
        line.slice(eq + 1).trim(),
      );
    }
  }
  return sections;
}

async function readIni(
  path: string,
): Promise<Map<string, Map<string, string>> | undefined> {
  try {
    return parseIni(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new AwsSettingsError(
      `cannot read ${path}: ${(error as Error).message}`,
    );
  }
}

function awsFile(env: Env, variable: string, name: string): string {
  const home = env("HOME") ?? env("USERPROFILE") ?? ".";
  return env(variable) ?? `${home}/.aws/${name}`;
}

/**
 * The credentials and region of the AWS CLI's order: `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`), else profile
 * `AWS_PROFILE` (or `default`) of `AWS_SHARED_CREDENTIALS_FILE` (or
 * `~/.aws/credentials`); `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the
 * profile's `region` in `AWS_CONFIG_FILE` (or `~/.aws/config`); a
 * `region` given (a `--region` flag) wins and is not looked up.
 *
 * @throws {AwsSettingsError} naming where it looked, when either is missing.
 * @example
 * ```ts
 * const { credentials, region } = await resolveAwsSettings();
 * const keyring = remoteKeyring({ endpoint: "http://127.0.0.1:8080", region, credentials });
 * ```
 */
export async function resolveAwsSettings(
  env: Env = processEnv,
  region?: string,
): Promise<AwsSettings> {
  const profile = env("AWS_PROFILE") ?? "default";
  return {
    credentials: await findCredentials(env, profile),
    region: region ?? await findRegion(env, profile),
  };
}

async function findCredentials(
  env: Env,
  profile: string,
): Promise<AwsCredentials> {
  const accessKeyId = env("AWS_ACCESS_KEY_ID");
  const secretAccessKey = env("AWS_SECRET_ACCESS_KEY");
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    const sessionToken = env("AWS_SESSION_TOKEN");
    return {
      accessKeyId,
      secretAccessKey,
      ...(sessionToken ? { sessionToken } : {}),
    };
  }
  const file = awsFile(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  const section = (await readIni(file))?.get(profile);
  const id = section?.get("aws_access_key_id");
  const secret = section?.get("aws_secret_access_key");
  if (id && secret) {
    const token = section?.get("aws_session_token");
    return {
      accessKeyId: id,
      secretAccessKey: secret,
      ...(token ? { sessionToken: token } : {}),
    };
  }
  throw new AwsSettingsError(
    `no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give profile ${profile} aws_access_key_id and aws_secret_access_key in ${file}`,
  );
}

async function findRegion(env: Env, profile: string): Promise<string> {
  const region = env("AWS_REGION") ?? env("AWS_DEFAULT_REGION");
  if (region !== undefined) return region;
  const file = awsFile(env, "AWS_CONFIG_FILE", "config");
  const sections = await readIni(file);
  const section = sections?.get(
    profile === "default" ? "default" : `profile ${profile}`,
  );
  const found = section?.get("region");
  if (found) return found;
  throw new AwsSettingsError(
    `no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), or give profile ${profile} a region in ${file}`,
  );
}

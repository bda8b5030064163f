/**
 * The embedded HSM: a SoftHSM2 token kept under okms's data directory.
 * @module
 */
import { isModuleLoaded } from "./hsm.ts";

/** The label of the embedded token. */
export const EMBEDDED_TOKEN_LABEL = "okms";

/** The files of an embedded token. */
export interface EmbeddedToken {
  /** The SoftHSM2 configuration okms wrote and pointed SOFTHSM2_CONF at. */
  configPath: string;
  /** The user PIN, read from the PIN file (mode 0600). */
  pin: Uint8Array;
  /** A fresh SO PIN, used only if the token must be created; never stored. */
  soPin: Uint8Array;
}

function randomPin(): string {
  return crypto.getRandomValues(new Uint8Array(24)).toHex();
}

/**
 * Prepares `dataDir` for an embedded token: `softhsm2.conf` pointing at
 * `tokens/`, and a `pin` file (mode 0600) with a random PIN made on first
 * use. Points `SOFTHSM2_CONF` at the configuration, which SoftHSM2 reads
 * when the module is initialized.
 *
 * @throws {Error} when SoftHSM2 is already initialized in this process with
 * another configuration, or the PIN file is readable by others.
 * @example
 * ```ts
 * const token = await prepareEmbeddedToken(".okms", modulePath);
 * ```
 */
export async function prepareEmbeddedToken(
  dataDir: string,
  modulePath: string,
): Promise<EmbeddedToken> {
  const dir = await Deno.realPath(dataDir);
  const tokens = `${dir}/tokens`;
  await Deno.mkdir(tokens, { recursive: true, mode: 0o700 });
  const configPath = `${dir}/softhsm2.conf`;
  await Deno.writeTextFile(
    configPath,
    [
      `directories.tokendir = ${tokens}`,
      "objectstore.backend = file",
      "log.level = ERROR",
      "slots.removable = false",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  if (isModuleLoaded(modulePath)) {
    if (Deno.env.get("SOFTHSM2_CONF") !== configPath) {
      throw new Error(
        "SoftHSM2 is already in use in this process with another data directory; close that Okms first",
      );
    }
  } else {
    Deno.env.set("SOFTHSM2_CONF", configPath);
  }
  return {
    configPath,
    pin: await readOrCreatePin(`${dir}/pin`),
    soPin: new TextEncoder().encode(randomPin()),
  };
}

async function readOrCreatePin(path: string): Promise<Uint8Array> {
  try {
    await Deno.writeTextFile(path, randomPin(), {
      createNew: true,
      mode: 0o600,
    });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  return await readPinFile(path);
}

/**
 * The PIN in a file, as bytes, refusing a file that others can read.
 *
 * @example
 * ```ts
 * const pin = await readPinFile("/etc/okms/pin");
 * ```
 */
export async function readPinFile(path: string): Promise<Uint8Array> {
  const { mode } = await Deno.stat(path);
  if (mode !== null && (mode & 0o077) !== 0) {
    throw new Error(`${path} is readable by other users; chmod 600 it`);
  }
  const bytes = await Deno.readFile(path);
  const blank = (b: number) =>
    b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
  let start = 0;
  let end = bytes.length;
  while (start < end && blank(bytes[start])) start++;
  while (end > start && blank(bytes[end - 1])) end--;
  const pin = bytes.slice(start, end);
  bytes.fill(0);
  return pin;
}

/**
 * The embedded HSM: a SoftHSM2 token kept under okms's data directory.
 * @module
 */
import { fileError } from "./file_error.ts";
import { isModuleLoaded } from "./hsm.ts";

/** The label of the embedded token. */
export const EMBEDDED_TOKEN_LABEL = "okms";

/** How to give a data directory its external token, in flags and variables. */
export const EXTERNAL_TOKEN_SETTINGS =
  "--pkcs11-module (OKMS_PKCS11_MODULE), --pkcs11-token-label (OKMS_PKCS11_TOKEN_LABEL) and --pkcs11-pin-file (OKMS_PKCS11_PIN_FILE)";

/** The files of an embedded token. */
export interface EmbeddedToken {
  /** The SoftHSM2 configuration okms wrote and pointed SOFTHSM2_CONF at. */
  configPath: string;
  /** SoftHSM2's token directory, which okms alone uses. */
  tokensDir: string;
  /** The user PIN, read from the PIN file (mode 0600). */
  pin: Uint8Array;
  /** With `create`: a fresh SO PIN, used only to make the token; never stored. */
  soPin?: Uint8Array;
}

/** Where the embedded token's PIN is, and whether the token may be made. */
export interface EmbeddedTokenOptions {
  /** The user PIN file (`OkmsConfig.embeddedPinFile`). */
  pinFile: string;
  /**
   * Whether a new token (and PIN) may be made: only for a data directory
   * that holds no keys yet. Otherwise a missing token or PIN is an error,
   * not a fresh start that would leave every key unavailable.
   */
  create: boolean;
}

/**
 * A new PIN, from the kernel's generator: there is no HSM yet to ask, and
 * `crypto.getRandomValues` repeats itself under `deno run --seed`.
 */
function randomPin(): string {
  const bytes = new Uint8Array(24);
  using source = Deno.openSync("/dev/urandom", { read: true });
  for (let filled = 0; filled < bytes.length;) {
    filled += source.readSync(bytes.subarray(filled)) ?? 0;
  }
  const pin = bytes.toHex();
  bytes.fill(0);
  return pin;
}

/** A file's information, or `undefined` when it does not exist. */
async function statOrUndefined(
  path: string,
): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw fileError(path, error);
  }
}

/**
 * Refuses a PIN file other than `<dataDir>/pin` while that file exists: the
 * PIN is still beside the token, so moving it out was not finished.
 */
async function checkPinPlace(dataDir: string, pinFile: string): Promise<void> {
  const beside = await statOrUndefined(`${dataDir}/pin`);
  if (beside === undefined) return;
  const given = await statOrUndefined(pinFile);
  if (given?.dev === beside.dev && given?.ino === beside.ino) return;
  throw new Error(
    `the okms data directory ${dataDir} keeps its token's PIN in ${dataDir}/pin, but the PIN file ${pinFile} was given: ` +
      `to keep the PIN outside the data directory, move it there (mv ${dataDir}/pin ${pinFile}); ` +
      "otherwise drop --pin-file (OKMS_PIN_FILE) and the systemd credential okms-pin",
  );
}

/**
 * Prepares `dataDir` for an embedded token: `softhsm2.conf` pointing at
 * `tokens/`, and the user PIN from `pinFile` (mode 0600), made there on
 * first use when `create` allows. Points `SOFTHSM2_CONF` at the
 * configuration, which SoftHSM2 reads when the module is initialized.
 *
 * @throws {Error} when SoftHSM2 is already initialized in this process with
 * another configuration, the PIN file is readable by others or in the wrong
 * place, or the token or PIN is missing and may not be made.
 * @example
 * ```ts
 * const token = await prepareEmbeddedToken(".okms", modulePath, { pinFile: ".okms/pin", create: true });
 * ```
 */
export async function prepareEmbeddedToken(
  dataDir: string,
  modulePath: string,
  { pinFile, create }: EmbeddedTokenOptions,
): Promise<EmbeddedToken> {
  await checkPinPlace(dataDir, pinFile);
  const { configPath, tokensDir } = await writeConfig(dataDir, create);
  if (isModuleLoaded(modulePath)) {
    if (Deno.env.get("SOFTHSM2_CONF") !== configPath) {
      throw new Error(
        "SoftHSM2 is already in use in this process with another data directory; close that Okms first",
      );
    }
  } else {
    Deno.env.set("SOFTHSM2_CONF", configPath);
  }
  if (!create) {
    return { configPath, tokensDir, pin: await readOwnPin(dataDir, pinFile) };
  }
  return {
    configPath,
    tokensDir,
    pin: await readOrCreatePin(pinFile),
    soPin: new TextEncoder().encode(randomPin()),
  };
}

/** Writes `softhsm2.conf`, and makes `tokens/` when `create` allows. */
async function writeConfig(
  dataDir: string,
  create: boolean,
): Promise<{ configPath: string; tokensDir: string }> {
  try {
    const dir = await Deno.realPath(dataDir);
    const tokensDir = `${dir}/tokens`;
    if (create) {
      await Deno.mkdir(tokensDir, { recursive: true, mode: 0o700 });
    } else if (!(await statOrUndefined(tokensDir))?.isDirectory) {
      throw new Error(
        `the okms data directory ${dataDir} has keys but no embedded token (${dataDir}/tokens is missing): ` +
          `if its keys are in an external PKCS#11 token, give it with ${EXTERNAL_TOKEN_SETTINGS}; ` +
          `otherwise restore ${dataDir}/tokens from a backup`,
      );
    }
    const configPath = `${dir}/softhsm2.conf`;
    await Deno.writeTextFile(
      configPath,
      [
        `directories.tokendir = ${tokensDir}`,
        "objectstore.backend = file",
        "log.level = ERROR",
        "slots.removable = false",
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    return { configPath, tokensDir };
  } catch (error) {
    throw fileError(`the okms data directory ${dataDir}`, error);
  }
}

/** The PIN of an existing token; a missing file says where to find it. */
async function readOwnPin(
  dataDir: string,
  pinFile: string,
): Promise<Uint8Array> {
  if (await statOrUndefined(pinFile) === undefined) {
    throw new Error(
      `the PIN file ${pinFile} of the token in ${dataDir} does not exist: ` +
        "give the file that holds it with --pin-file (OKMS_PIN_FILE) or the systemd credential okms-pin",
    );
  }
  return await readPinFile(pinFile);
}

async function readOrCreatePin(path: string): Promise<Uint8Array> {
  try {
    await Deno.writeTextFile(path, randomPin(), {
      createNew: true,
      mode: 0o600,
    });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) {
      throw fileError(`the PIN file ${path}`, error);
    }
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
  let bytes: Uint8Array;
  try {
    const { mode } = await Deno.stat(path);
    if (mode !== null && (mode & 0o077) !== 0) {
      throw new Error(`${path} is readable by other users; chmod 600 it`);
    }
    bytes = await Deno.readFile(path);
  } catch (error) {
    throw fileError(`the PIN file ${path}`, error);
  }
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

/**
 * A node's own PKCS#11 token and data directory: opening the embedded
 * SoftHSM2 token (made on first use) or an external one, as the settings
 * say.
 * @module
 */
import { findPkcs11Module } from "../ffi/mod.ts";
import { literalPin, type OkmsConfig, type OkmsOptions } from "./config.ts";
import {
  EMBEDDED_TOKEN_LABEL,
  prepareEmbeddedToken,
  readPinFile,
} from "./embedded_token.ts";
import { fileError } from "./file_error.ts";
import { Hsm } from "./hsm.ts";
import type { Sweeper } from "./material/key_material.ts";
import { sweepEmbeddedToken } from "./material/token_sweep.ts";

/**
 * Opens the token; `create` lets a new embedded token be made. With the
 * embedded token comes the sweeper of its leftovers (okms alone uses it).
 */
export async function openToken(
  config: OkmsConfig,
  options: OkmsOptions,
  create: boolean,
): Promise<{ hsm: Hsm; sweeper?: Sweeper }> {
  const modulePath = findPkcs11Module(config.modulePaths);
  const viaFunctionList = config.viaFunctionList;
  if (config.external === undefined) {
    const token = await prepareEmbeddedToken(config.dataDir, modulePath, {
      pinFile: config.embeddedPinFile!,
      create,
    });
    const hsm = Hsm.open({
      modulePath,
      viaFunctionList,
      tokenLabel: EMBEDDED_TOKEN_LABEL,
      pin: token.pin,
      initializeWithSoPin: token.soPin,
    });
    return {
      hsm,
      sweeper: (creationUnderWay, before) =>
        sweepEmbeddedToken(hsm, token.tokensDir, creationUnderWay, before),
    };
  }
  const { tokenLabel, pinFile } = config.external;
  const pin = pinFile === undefined
    ? new TextEncoder().encode(literalPin(options))
    : await readPinFile(pinFile);
  return { hsm: Hsm.open({ modulePath, viaFunctionList, tokenLabel, pin }) };
}

/**
 * Creates the data directory (mode 0700) if it is missing, but not its
 * parents: a mistyped path must not quietly become a new, empty KMS.
 */
export async function makeDataDir(dataDir: string): Promise<void> {
  try {
    await Deno.mkdir(dataDir, { mode: 0o700 });
    return;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `cannot create the okms data directory ${dataDir}: its parent directory does not exist`,
      );
    }
    if (!(error instanceof Deno.errors.AlreadyExists)) {
      throw fileError(`the okms data directory ${dataDir}`, error);
    }
  }
  if (!(await Deno.stat(dataDir)).isDirectory) {
    throw new Error(
      `the okms data directory ${dataDir} is a file, not a directory: give another path with --data-dir (OKMS_DATA_DIR)`,
    );
  }
}

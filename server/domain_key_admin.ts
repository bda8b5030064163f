/**
 * The admin side of moving domain keys to a new node's HSM: each step of
 * `lib/material/domain_key_transfer.ts` reading and writing its JSON file,
 * for the admin CLI to call. Files are written mode 0600 and never
 * overwritten. Run these with no okms open in the same process on the
 * token when the SO PIN is given (see `Hsm.asSecurityOfficer`).
 * @module
 */
import type { Hsm } from "../lib/hsm.ts";
import { fileError } from "../lib/file_error.ts";
import {
  type AcceptResult,
  acceptTransfer,
  cancelTransfer,
  createTransferKey,
  DomainKeyTransferError,
  transferFingerprint,
  type TransferGrant,
  type TransferRequest,
  wrapForTransfer,
} from "../lib/material/domain_key_transfer.ts";

/** The admin commands of a domain key transfer, in the order they run. */
export type DomainKeyCommand =
  | "transfer-request"
  | "transfer-grant"
  | "transfer-accept";

/** What a {@linkcode DomainKeyCommand} works on. */
export interface DomainKeyCommandArgs {
  /** The session on this node's HSM. */
  hsm: Hsm;
  /** `transfer-grant`: the domain keys to wrap (the store's ids). */
  domainKeyIds?: Uint8Array[];
  /** `transfer-grant`: the request; `transfer-accept`: the grant. */
  inFile?: string;
  /** `transfer-request`: the request; `transfer-grant`: the grant. */
  outFile?: string;
  /**
   * `transfer-grant`: the fingerprint the new node's operator read out;
   * the request is refused when it differs.
   */
  fingerprint?: string;
  /** `transfer-grant`: SO and user PINs, for `CKA_WRAP_WITH_TRUSTED` keys. */
  trusted?: { soPin: Uint8Array; userPin: Uint8Array };
}

/** What a command did, to print as JSON. Never any key material. */
export type DomainKeyCommandResult =
  | {
    command: "transfer-request";
    transferId: string;
    fingerprint: string;
    outFile: string;
  }
  | {
    command: "transfer-grant";
    transferId: string;
    fingerprint: string;
    domainKeys: string[];
    outFile: string;
  }
  | ({ command: "transfer-accept"; transferId: string } & AcceptResult);

/**
 * Runs one step of a domain key transfer:
 * - `transfer-request` (new node): makes a transfer key, writes the request
 *   to `outFile`, returns its fingerprint to read to the member's operator;
 * - `transfer-grant` (member): wraps `domainKeyIds` for the request in
 *   `inFile` (checked against `fingerprint` when given), writes the grant
 *   to `outFile`;
 * - `transfer-accept` (new node): unwraps the grant in `inFile` into domain
 *   keys and destroys the transfer key.
 *
 * @throws {DomainKeyTransferError} when an argument is missing or a step
 * refuses; an error naming the file when it cannot be read or written.
 * @example
 * ```ts
 * const { fingerprint } = await runDomainKeyCommand("transfer-request", { hsm, outFile: "request.json" });
 * ```
 */
export async function runDomainKeyCommand(
  command: DomainKeyCommand,
  args: DomainKeyCommandArgs,
): Promise<DomainKeyCommandResult> {
  switch (command) {
    case "transfer-request": {
      const outFile = required(args.outFile, command, "outFile");
      const request = createTransferKey(args.hsm);
      try {
        await writeNew(outFile, request);
      } catch (error) {
        cancelTransfer(args.hsm, request.transferId);
        throw error;
      }
      return {
        command,
        transferId: request.transferId,
        fingerprint: transferFingerprint(request),
        outFile,
      };
    }
    case "transfer-grant": {
      const inFile = required(args.inFile, command, "inFile");
      const outFile = required(args.outFile, command, "outFile");
      const ids = required(args.domainKeyIds, command, "domainKeyIds");
      const request = await readJson<TransferRequest>(inFile);
      const grant = wrapForTransfer(args.hsm, ids, request, {
        fingerprint: args.fingerprint,
        trusted: args.trusted,
      });
      await writeNew(outFile, grant);
      return {
        command,
        transferId: grant.transferId,
        fingerprint: transferFingerprint(request),
        domainKeys: grant.keys.map(({ id }) => id),
        outFile,
      };
    }
    case "transfer-accept": {
      const inFile = required(args.inFile, command, "inFile");
      const grant = await readJson<TransferGrant>(inFile);
      const result = acceptTransfer(args.hsm, grant);
      return { command, transferId: grant.transferId, ...result };
    }
    default:
      throw new DomainKeyTransferError(
        `unknown domain key command ${JSON.stringify(command)}`,
      );
  }
}

function required<T>(value: T | undefined, command: string, name: string): T {
  if (value === undefined) {
    throw new DomainKeyTransferError(`${command} needs ${name}`);
  }
  return value;
}

async function readJson<T>(path: string): Promise<T> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw fileError(`the transfer file ${path}`, error);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new DomainKeyTransferError(`the transfer file ${path} is not JSON`);
  }
}

/** Writes `value` as JSON to a new file, mode 0600. */
async function writeNew(path: string, value: unknown): Promise<void> {
  try {
    await Deno.writeTextFile(path, JSON.stringify(value, null, 2) + "\n", {
      createNew: true,
      mode: 0o600,
    });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new DomainKeyTransferError(
        `the transfer file ${path} exists already: give a new file name`,
      );
    }
    throw fileError(`the transfer file ${path}`, error);
  }
}

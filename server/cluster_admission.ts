/**
 * Admitting a new machine's HSM to a cluster: the three admin steps of a
 * domain key transfer (see `domain_key_admin.ts`), each opening this node's
 * token and the cluster's database, and, once the new HSM holds every
 * domain key, recording it as admitted, so that its nodes may serve.
 * @module
 */
import { resolveConfig } from "../lib/config.ts";
import type { Hsm } from "../lib/hsm.ts";
import { findTokenKey } from "../lib/material/token_objects.ts";
import { domainKeyLabel } from "../lib/material/domain_keys.ts";
import type { TokenBinding } from "../lib/metadata_store.ts";
import { makeDataDir, openToken } from "../lib/node_token.ts";
import { PostgresStore } from "../lib/store/postgres_store.ts";
import type { OkmsOptions } from "../mod.ts";
import {
  type DomainKeyCommand,
  type DomainKeyCommandResult,
  runDomainKeyCommand,
} from "./domain_key_admin.ts";

/** The files and check of one step. */
export interface AdmissionFiles {
  inFile?: string;
  outFile?: string;
  /** `transfer-grant`: the request's fingerprint, read out by the new node's operator. */
  fingerprint?: string;
}

/** This node's token as the store records tokens. */
function bindingOf(hsm: Hsm, embedded: boolean): TokenBinding {
  return {
    embedded,
    modulePath: hsm.modulePath,
    label: hsm.token.label,
    serialNumber: hsm.token.serialNumber,
    keyMaterial: "wrapped",
  };
}

/**
 * Runs one step of admitting a machine's HSM, on the node `options` name
 * (its data directory or external token, and the cluster's `databaseUrl`):
 * - `transfer-request`, on the new machine: makes its transfer key (and
 *   its embedded token, on first use) and writes the request;
 * - `transfer-grant`, on a machine already admitted: wraps every domain key
 *   the cluster records for that request;
 * - `transfer-accept`, on the new machine: brings the domain keys in and,
 *   once its HSM holds them all, admits it.
 *
 * @throws {Error} saying what is missing: no database, a granting HSM that
 * is not admitted, a domain key that did not arrive.
 * @example
 * ```ts
 * const { fingerprint } = await admissionStep("transfer-request", { databaseUrl, dataDir: "/var/lib/okms" }, { outFile: "request.json" });
 * ```
 */
export async function admissionStep(
  command: DomainKeyCommand,
  options: OkmsOptions,
  files: AdmissionFiles,
): Promise<DomainKeyCommandResult> {
  const config = resolveConfig(options);
  if (config.databaseUrl === undefined) {
    throw new Error(
      "domain keys move between the HSMs of a cluster: give its --database-url (OKMS_DATABASE_URL)",
    );
  }
  await makeDataDir(config.dataDir);
  await using store = await PostgresStore.open(config.databaseUrl);
  const { hsm } = await openToken(config, options, true);
  try {
    const given = bindingOf(hsm, config.external === undefined);
    const admitted = (await store.admittedTokens()).some((token) =>
      token.label === given.label && token.serialNumber === given.serialNumber
    );
    const domainKeys = (await store.domainKeys()).map((key) => key.id);
    if (command === "transfer-grant" && !admitted) {
      throw new Error(
        `this node's token (serial ${given.serialNumber}) is not admitted to the cluster: grant from a node whose HSM is`,
      );
    }
    if (command === "transfer-request" && admitted) {
      throw new Error(
        `this node's token (serial ${given.serialNumber}) is admitted already: its nodes can serve`,
      );
    }
    const result = await runDomainKeyCommand(command, {
      hsm,
      domainKeyIds: domainKeys,
      ...files,
    });
    if (command === "transfer-accept") {
      const missing = domainKeys.find((id) =>
        findTokenKey(hsm, id) === undefined
      );
      if (missing !== undefined) {
        throw new Error(
          `the grant lacked domain key ${
            domainKeyLabel(missing)
          }, which the cluster records (made since the request?): run the transfer again`,
        );
      }
      await store.admitToken(given, Date.now());
    }
    return result;
  } finally {
    hsm.close();
  }
}

/**
 * The operations of the HTTP benchmark, each as the JSON body of a request
 * and as the same call in process, and the in-process cost of each: a
 * tight loop in this process on a fresh data directory (and SoftHSM2
 * token) of its own.
 * @module
 */
import process from "node:process";
import { Okms } from "../mod.ts";

/** The operations, in the order they run. */
export const OPERATIONS = [
  "Encrypt",
  "Decrypt",
  "GenerateDataKey",
  "GenerateDataKeyWithoutPlaintext",
] as const;

/** One of {@linkcode OPERATIONS}. */
export type Operation = typeof OPERATIONS[number];

/** The encryption context of every operation: two pairs. */
const CONTEXT = { purpose: "benchmark", tenant: "acme" } as const;
/** Encrypt's plaintext: 32 bytes. */
const PLAINTEXT = crypto.getRandomValues(new Uint8Array(32));

/** A key, and for Decrypt a ciphertext of it under the context. */
export interface Subject {
  keyId: string;
  ciphertextBlob?: Uint8Array;
}

/** The JSON body of a request of `operation` on `subject`. */
export function requestBody(
  operation: Operation,
  { keyId, ciphertextBlob }: Subject,
): string {
  return JSON.stringify(
    operation === "Encrypt"
      ? {
        KeyId: keyId,
        Plaintext: PLAINTEXT.toBase64(),
        EncryptionContext: CONTEXT,
      }
      : operation === "Decrypt"
      ? {
        CiphertextBlob: ciphertextBlob?.toBase64(),
        EncryptionContext: CONTEXT,
      }
      : { KeyId: keyId, KeySpec: "AES_256", EncryptionContext: CONTEXT },
  );
}

/** The same operation through the library. */
async function call(
  okms: Okms,
  operation: Operation,
  { keyId, ciphertextBlob }: Required<Subject>,
): Promise<void> {
  const encryptionContext = CONTEXT;
  switch (operation) {
    case "Encrypt":
      await okms.encrypt({ keyId, plaintext: PLAINTEXT, encryptionContext });
      return;
    case "Decrypt":
      await okms.decrypt({ ciphertextBlob, encryptionContext });
      return;
    case "GenerateDataKey": {
      using _ = await okms.generateDataKey({
        keyId,
        keySpec: "AES_256",
        encryptionContext,
      });
      return;
    }
    case "GenerateDataKeyWithoutPlaintext":
      await okms.generateDataKeyWithoutPlaintext({
        keyId,
        keySpec: "AES_256",
        encryptionContext,
      });
  }
}

/** What one operation costs in process, µs per call. */
export interface InProcessCost {
  wallUs: number;
  /** CPU time of all this process's threads. */
  cpuUs: number;
}

/**
 * Times `n` calls of each operation after `warmup` unmeasured ones, in
 * this process on a fresh data directory, removed afterwards.
 *
 * @example
 * ```ts
 * const costs = await measureInProcess(["Encrypt"], { n: 20_000, warmup: 2_000 });
 * console.log(costs.get("Encrypt")!.cpuUs);
 * ```
 */
export async function measureInProcess(
  operations: readonly Operation[],
  { n, warmup }: { n: number; warmup: number },
): Promise<Map<Operation, InProcessCost>> {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-http-inproc-" });
  try {
    await using okms = await Okms.open({ dataDir });
    const { keyId } = await okms.createKey({ description: "in-process" });
    const { ciphertextBlob } = await okms.encrypt({
      keyId,
      plaintext: PLAINTEXT,
      encryptionContext: CONTEXT,
    });
    const subject = { keyId, ciphertextBlob };
    const costs = new Map<Operation, InProcessCost>();
    for (const operation of operations) {
      for (let i = 0; i < warmup; i++) await call(okms, operation, subject);
      const cpu = process.cpuUsage();
      const started = performance.now();
      for (let i = 0; i < n; i++) await call(okms, operation, subject);
      const wallUs = (performance.now() - started) * 1000 / n;
      const { user, system } = process.cpuUsage(cpu);
      costs.set(operation, { wallUs, cpuUs: (user + system) / n });
    }
    return costs;
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

/**
 * The envelope keyring of a KMS over HTTP: an okms server or AWS KMS,
 * spoken to in the AWS JSON 1.1 protocol (`X-Amz-Target:
 * TrentService.<Operation>`, base64 blobs) and signed with SigV4.
 * @module
 */
import {
  type AwsCredentials,
  KMS_CONTENT_TYPE,
  SigV4Signer,
} from "../aws/sigv4_signer.ts";
import type { EnvelopeKeyring } from "./keyring.ts";

/** Where the KMS is and who calls it. */
export interface RemoteKmsOptions {
  /** The endpoint URL, e.g. `http://127.0.0.1:8080` or `https://kms.eu-west-2.amazonaws.com`. */
  endpoint: string;
  region: string;
  credentials: AwsCredentials;
  /** How long one call may take; 30 s by default. */
  timeoutMs?: number;
}

/**
 * An error the KMS answered: its `name` is the AWS exception name
 * (`NotFoundException`, `AccessDeniedException`, …).
 */
export class KmsServiceError extends Error {
  /** The HTTP status of the answer. */
  readonly status: number;

  constructor(name: string, message: string, status: number) {
    super(message);
    this.name = name;
    this.status = status;
  }
}

const encoder = new TextEncoder();

/** A base64 field of an answer, decoded. */
function blob(answer: Record<string, unknown>, field: string): Uint8Array {
  const value = answer[field];
  if (typeof value !== "string") {
    throw new Error(`the KMS answer has no ${field}`);
  }
  return Uint8Array.fromBase64(value);
}

function text(answer: Record<string, unknown>, field: string): string {
  const value = answer[field];
  if (typeof value !== "string") {
    throw new Error(`the KMS answer has no ${field}`);
  }
  return value;
}

/**
 * The AWS error of a failed answer: `__type` (or the `x-amzn-ErrorType`
 * header) without its `namespace#` prefix or `:` suffix.
 */
function serviceError(
  response: Response,
  body: Record<string, unknown> | undefined,
): KmsServiceError {
  const type = (typeof body?.__type === "string" ? body.__type : undefined) ??
    response.headers.get("x-amzn-errortype") ?? `HTTP ${response.status}`;
  const name = type.split("#").at(-1)!.split(":")[0];
  const message = body?.message ?? body?.Message;
  return new KmsServiceError(
    name,
    typeof message === "string" ? message : response.statusText,
    response.status,
  );
}

async function parseJson(
  response: Response,
): Promise<Record<string, unknown> | undefined> {
  try {
    const value = await response.json();
    return typeof value === "object" && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A keyring that calls GenerateDataKey, Encrypt and Decrypt on a KMS over
 * HTTP. Failed calls throw {@linkcode KmsServiceError}; nothing is logged.
 * The base64 data keys in request and answer bodies are JavaScript strings,
 * which cannot be zeroed; the bytes this keyring owns are.
 *
 * @example
 * ```ts
 * const keyring = remoteKeyring({
 *   endpoint: "http://127.0.0.1:8080",
 *   ...(await resolveAwsSettings()),
 * });
 * const key = await keyring.generateDataKey("alias/files", { purpose: "backup" });
 * ```
 */
export function remoteKeyring(options: RemoteKmsOptions): EnvelopeKeyring {
  const url = new URL(options.endpoint).href;
  const signer = new SigV4Signer(options.credentials, {
    region: options.region,
  });
  const call = async (
    operation: string,
    request: Record<string, unknown>,
  ): Promise<Record<string, unknown>> => {
    const body = encoder.encode(JSON.stringify(request));
    let response: Response;
    try {
      const headers = signer.sign({
        url,
        headers: {
          "content-type": KMS_CONTENT_TYPE,
          "x-amz-target": `TrentService.${operation}`,
        },
        body,
      });
      response = await fetch(url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new Error(
        `${operation} at ${url} failed: ${(error as Error).message}`,
        { cause: error },
      );
    } finally {
      body.fill(0); // it may hold a data key
    }
    const answer = await parseJson(response);
    if (!response.ok) throw serviceError(response, answer);
    if (answer === undefined) {
      throw new Error(`${operation} at ${url} answered no JSON object`);
    }
    return answer;
  };
  return {
    async generateDataKey(keyId, encryptionContext) {
      const answer = await call("GenerateDataKey", {
        KeyId: keyId,
        KeySpec: "AES_256",
        EncryptionContext: encryptionContext,
      });
      return {
        keyId: text(answer, "KeyId"),
        ciphertextBlob: blob(answer, "CiphertextBlob"),
        plaintext: blob(answer, "Plaintext"),
      };
    },
    async encrypt(keyId, plaintext, encryptionContext) {
      const answer = await call("Encrypt", {
        KeyId: keyId,
        Plaintext: plaintext.toBase64(),
        EncryptionContext: encryptionContext,
      });
      return {
        keyId: text(answer, "KeyId"),
        ciphertextBlob: blob(answer, "CiphertextBlob"),
      };
    },
    async decrypt(keyId, ciphertextBlob, encryptionContext) {
      const answer = await call("Decrypt", {
        KeyId: keyId,
        CiphertextBlob: ciphertextBlob.toBase64(),
        EncryptionContext: encryptionContext,
      });
      return {
        keyId: text(answer, "KeyId"),
        plaintext: blob(answer, "Plaintext"),
      };
    },
  };
}

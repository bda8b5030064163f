/**
 * AWS Signature Version 4 signing of requests, as AWS clients sign them:
 * the one signer of okms's clients (the remote keyring, the HTTP load bench
 * and the tests). Synchronous, on `node:crypto`, with the day's signing key
 * derived once. The server's verifier (`server/sigv4.ts`) is separate code,
 * so tests check one against the other.
 * @module
 */
import { createHash, createHmac } from "node:crypto";

const ALGORITHM = "AWS4-HMAC-SHA256";
const TERMINATOR = "aws4_request";

/** The content type of the AWS JSON 1.1 protocol that KMS speaks. */
export const KMS_CONTENT_TYPE = "application/x-amz-json-1.1";

/** An AWS access key, with the session token of temporary credentials. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Where a signer's signatures are valid. */
export interface SigningScope {
  region: string;
  /** `kms` by default. */
  service?: string;
}

/** A request to sign: its path is signed as given, and it has no query. */
export interface RequestToSign {
  /** `POST` by default. */
  method?: string;
  url: string;
  /**
   * Headers to sign, lower case. `host` is taken from the URL when absent
   * (signed, not returned: HTTP clients send it themselves); `x-amz-date`
   * is the signing time's when absent.
   */
  headers: Record<string, string>;
  /**
   * Headers sent but left out of the signature, as clients leave out
   * `user-agent`; naming `host` or `x-amz-date` here leaves it unsigned.
   */
  unsignedHeaders?: Record<string, string>;
  body: Uint8Array;
}

function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: Uint8Array | string, data: string): Uint8Array {
  return createHmac("sha256", key).update(data).digest();
}

/** `YYYYMMDD'T'HHMMSS'Z'` (the `x-amz-date` form) of epoch milliseconds. */
export function amzDateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, "") + "Z";
}

/**
 * Signs requests with one access key for one region and service.
 *
 * @example
 * ```ts
 * const signer = new SigV4Signer(credentials, { region: "eu-west-2" });
 * const body = new TextEncoder().encode("{}");
 * const headers = signer.sign({
 *   url: "http://127.0.0.1:8080/",
 *   headers: { "content-type": KMS_CONTENT_TYPE, "x-amz-target": "TrentService.ListKeys" },
 *   body,
 * });
 * await fetch("http://127.0.0.1:8080/", { method: "POST", headers, body });
 * ```
 */
export class SigV4Signer implements Disposable {
  readonly #credentials: AwsCredentials;
  readonly #region: string;
  readonly #service: string;
  #day = "";
  #signingKey: Uint8Array = new Uint8Array(0);

  constructor(credentials: AwsCredentials, scope: SigningScope) {
    this.#credentials = credentials;
    this.#region = scope.region;
    this.#service = scope.service ?? "kms";
  }

  /**
   * The headers to send, at `nowMs`: the given and unsigned ones,
   * `x-amz-date`, `x-amz-security-token` with a session token, and
   * `authorization`.
   */
  sign(
    request: RequestToSign,
    nowMs: number = Date.now(),
  ): Record<string, string> {
    const amzDate = amzDateOf(nowMs);
    const day = amzDate.slice(0, 8);
    const url = new URL(request.url);
    const { sessionToken, accessKeyId } = this.#credentials;
    const unsigned = request.unsignedHeaders ?? {};
    const signed: Record<string, string> = {
      host: url.host,
      "x-amz-date": amzDate,
      ...request.headers,
      ...(sessionToken === undefined
        ? {}
        : { "x-amz-security-token": sessionToken }),
    };
    for (const name of Object.keys(unsigned)) delete signed[name];
    const names = Object.keys(signed).sort();
    const canonicalRequest = [
      request.method ?? "POST",
      url.pathname,
      "",
      names.map((name) =>
        `${name}:${signed[name].trim().replace(/\s+/g, " ")}\n`
      ).join(""),
      names.join(";"),
      sha256Hex(request.body),
    ].join("\n");
    const scope = `${day}/${this.#region}/${this.#service}/${TERMINATOR}`;
    const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${
      sha256Hex(canonicalRequest)
    }`;
    const signature = createHmac("sha256", this.#keyOf(day))
      .update(stringToSign).digest("hex");
    const { host: _, ...sent } = signed;
    return {
      ...(request.headers.host === undefined ? sent : signed),
      ...unsigned,
      authorization: `${ALGORITHM} Credential=${accessKeyId}/${scope}, ` +
        `SignedHeaders=${names.join(";")}, Signature=${signature}`,
    };
  }

  /** Zeroes the derived signing key. */
  [Symbol.dispose](): void {
    this.#signingKey.fill(0);
    this.#day = "";
  }

  #keyOf(day: string): Uint8Array {
    if (day === this.#day) return this.#signingKey;
    this.#signingKey.fill(0);
    const steps = [
      hmac(`AWS4${this.#credentials.secretAccessKey}`, day),
    ];
    for (const part of [this.#region, this.#service, TERMINATOR]) {
      steps.push(hmac(steps.at(-1)!, part));
    }
    this.#signingKey = steps.pop()!;
    for (const step of steps) step.fill(0);
    this.#day = day;
    return this.#signingKey;
  }
}

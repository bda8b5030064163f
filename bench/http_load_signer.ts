/**
 * A compact, synchronous SigV4 signer for the HTTP load client: `POST /`
 * KMS requests signed over `content-type`, `host`, `x-amz-date` and
 * `x-amz-target`, the way AWS SDKs sign them. Built on `node:crypto`, with
 * the day's signing key derived once, so the client spends as little of the
 * machine's CPU as it can while still signing every request afresh.
 * @module
 */
import { createHash, createHmac } from "node:crypto";

const ALGORITHM = "AWS4-HMAC-SHA256";
const CONTENT_TYPE = "application/x-amz-json-1.1";
const SIGNED_HEADERS = "content-type;host;x-amz-date;x-amz-target";

/** An access key and where its requests go. */
export interface SignerOptions {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The `Host` header the HTTP client will send, e.g. `127.0.0.1:8080`. */
  host: string;
}

function hmac(key: Uint8Array | string, data: string): Uint8Array {
  return createHmac("sha256", key).update(data).digest();
}

/** `YYYYMMDD'T'HHMMSS'Z'` of an epoch second. */
function amzDateOf(second: number): string {
  return new Date(second * 1000).toISOString().slice(0, 19).replace(
    /[-:]/g,
    "",
  ) + "Z";
}

/**
 * Signs KMS JSON 1.1 requests with one access key.
 *
 * @example
 * ```ts
 * const signer = new KmsSigner({ accessKeyId, secretAccessKey, region: "eu-west-2", host: "127.0.0.1:8080" });
 * const headers = signer.sign("TrentService.Encrypt", body);
 * await fetch("http://127.0.0.1:8080/", { method: "POST", headers, body });
 * ```
 */
export class KmsSigner {
  readonly #options: SignerOptions;
  #second = -1;
  #amzDate = "";
  #day = "";
  #signingKey: Uint8Array = new Uint8Array(0);

  constructor(options: SignerOptions) {
    this.#options = options;
  }

  /** The headers of a signed `POST /` with `target` and `body`, at `nowMs`. */
  sign(
    target: string,
    body: Uint8Array,
    nowMs: number = Date.now(),
  ): Record<string, string> {
    this.#setClock(Math.floor(nowMs / 1000));
    const { accessKeyId, region, host } = this.#options;
    const payloadHash = createHash("sha256").update(body).digest("hex");
    const canonicalRequest = "POST\n/\n\n" +
      `content-type:${CONTENT_TYPE}\nhost:${host}\n` +
      `x-amz-date:${this.#amzDate}\nx-amz-target:${target}\n\n` +
      `${SIGNED_HEADERS}\n${payloadHash}`;
    const scope = `${this.#day}/${region}/kms/aws4_request`;
    const stringToSign = `${ALGORITHM}\n${this.#amzDate}\n${scope}\n` +
      createHash("sha256").update(canonicalRequest).digest("hex");
    const signature = createHmac("sha256", this.#signingKey).update(
      stringToSign,
    ).digest("hex");
    return {
      "content-type": CONTENT_TYPE,
      "x-amz-date": this.#amzDate,
      "x-amz-target": target,
      authorization: `${ALGORITHM} Credential=${accessKeyId}/${scope}, ` +
        `SignedHeaders=${SIGNED_HEADERS}, Signature=${signature}`,
    };
  }

  #setClock(second: number): void {
    if (second === this.#second) return;
    this.#second = second;
    this.#amzDate = amzDateOf(second);
    const day = this.#amzDate.slice(0, 8);
    if (day === this.#day) return;
    this.#day = day;
    const { secretAccessKey, region } = this.#options;
    this.#signingKey = hmac(
      hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), "kms"),
      "aws4_request",
    );
  }
}

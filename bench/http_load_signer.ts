/**
 * The HTTP load client's signer: `POST /` KMS requests signed over
 * `content-type`, `host`, `x-amz-date` and `x-amz-target`, the way AWS SDKs
 * sign them, by the clients' signer (`lib/aws/sigv4_signer.ts`), which
 * derives the day's signing key once, so the client spends as little of
 * the machine's CPU as it can while still signing every request afresh.
 * @module
 */
import { KMS_CONTENT_TYPE, SigV4Signer } from "../lib/aws/sigv4_signer.ts";

/** An access key and where its requests go. */
export interface SignerOptions {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The `Host` header the HTTP client will send, e.g. `127.0.0.1:8080`. */
  host: string;
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
  readonly #signer: SigV4Signer;
  readonly #url: string;

  constructor(options: SignerOptions) {
    this.#signer = new SigV4Signer(options, { region: options.region });
    this.#url = `http://${options.host}/`;
  }

  /** The headers of a signed `POST /` with `target` and `body`, at `nowMs`. */
  sign(
    target: string,
    body: Uint8Array,
    nowMs: number = Date.now(),
  ): Record<string, string> {
    return this.#signer.sign({
      url: this.#url,
      headers: { "content-type": KMS_CONTENT_TYPE, "x-amz-target": target },
      body,
    }, nowMs);
  }
}

/**
 * Raw `POST /` KMS requests for tests, signed by the clients' signer
 * (`lib/aws/sigv4_signer.ts`, separate code from the server's verifier, so
 * tests check one against the other), or deliberately not.
 * @module
 */
import {
  amzDateOf,
  KMS_CONTENT_TYPE,
  SigV4Signer,
} from "../lib/aws/sigv4_signer.ts";

const encoder = new TextEncoder();

/** A KMS request to sign. */
export interface KmsRequest {
  /** `TrentService.<operation>`'s operation, or a whole target when it has a dot. */
  operation?: string;
  /** The body: an object (sent as JSON) or raw text/bytes. */
  body?: unknown;
  /** Extra headers, signed unless listed in `unsigned`. */
  headers?: Record<string, string>;
  /** Headers sent but left out of SignedHeaders. */
  unsigned?: string[];
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
  service?: string;
  /** Signing time; now by default. */
  date?: Date;
  url?: string;
}

/** The parts of a signed request, to send or to tamper with first. */
export interface SignedParts {
  url: string;
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer>;
}

/**
 * Signs a KMS request the way AWS clients do.
 *
 * @example
 * ```ts
 * const parts = await signKmsRequest({ operation: "ListKeys", body: {}, accessKeyId, secretAccessKey });
 * const response = await app.request(toRequest(parts));
 * ```
 */
export function signKmsRequest(request: KmsRequest): Promise<SignedParts> {
  const url = request.url ?? "http://localhost/";
  const now = (request.date ?? new Date()).getTime();
  const raw = request.body ?? {};
  const body = raw instanceof Uint8Array
    ? new Uint8Array(raw)
    : encoder.encode(typeof raw === "string" ? raw : JSON.stringify(raw));
  const operation = request.operation ?? "ListKeys";
  const all: Record<string, string> = {
    host: new URL(url).host,
    "content-type": KMS_CONTENT_TYPE,
    "x-amz-target": operation.includes(".")
      ? operation
      : `TrentService.${operation}`,
    "x-amz-date": amzDateOf(now),
  };
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    all[name.toLowerCase()] = value;
  }
  const headers: Record<string, string> = {};
  const unsignedHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(all)) {
    (request.unsigned?.includes(name) ? unsignedHeaders : headers)[name] =
      value;
  }
  using signer = new SigV4Signer(request, {
    region: request.region ?? "eu-west-2",
    service: request.service,
  });
  return Promise.resolve({
    url,
    headers: signer.sign({ url, headers, unsignedHeaders, body }, now),
    body,
  });
}

/** The `Request` of signed parts. */
export function toRequest(parts: SignedParts): Request {
  return new Request(parts.url, {
    method: "POST",
    headers: parts.headers,
    body: parts.body,
  });
}

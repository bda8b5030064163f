/**
 * Test-only SigV4 signer on WebCrypto, written apart from the server's
 * verifier (which uses node:crypto) so that tests check one against the
 * other. Builds raw `POST /` KMS requests, signed or deliberately not.
 * @module
 */

const encoder = new TextEncoder();

async function sha256(data: Uint8Array<ArrayBuffer>): Promise<string> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data)).toHex();
}

async function hmac(
  key: Uint8Array<ArrayBuffer>,
  text: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const k = await crypto.subtle.importKey(
    "raw",
    key,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(
    await crypto.subtle.sign("HMAC", k, encoder.encode(text)),
  );
}

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
export async function signKmsRequest(
  request: KmsRequest,
): Promise<SignedParts> {
  const url = request.url ?? "http://localhost/";
  const region = request.region ?? "eu-west-2";
  const service = request.service ?? "kms";
  const date = request.date ?? new Date();
  const amzDate = date.toISOString().replace(/\.\d{3}/, "").replace(
    /[-:]/g,
    "",
  );
  const day = amzDate.slice(0, 8);
  const raw = request.body ?? {};
  const body = raw instanceof Uint8Array
    ? new Uint8Array(raw)
    : encoder.encode(typeof raw === "string" ? raw : JSON.stringify(raw));
  const operation = request.operation ?? "ListKeys";
  const headers: Record<string, string> = {
    host: new URL(url).host,
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": operation.includes(".")
      ? operation
      : `TrentService.${operation}`,
    "x-amz-date": amzDate,
  };
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    headers[name.toLowerCase()] = value;
  }
  const unsigned = new Set(request.unsigned ?? []);
  const signed = Object.keys(headers).filter((h) => !unsigned.has(h)).sort();
  const canonical = [
    "POST",
    new URL(url).pathname,
    "",
    signed.map((h) => `${h}:${headers[h].trim()}\n`).join(""),
    signed.join(";"),
    await sha256(body),
  ].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${await sha256(
    encoder.encode(canonical),
  )}`;
  let key = encoder.encode(`AWS4${request.secretAccessKey}`);
  for (const part of [day, region, service, "aws4_request"]) {
    key = await hmac(key, part);
  }
  const signature = (await hmac(key, toSign)).toHex();
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${request.accessKeyId}/${scope}, SignedHeaders=${
      signed.join(";")
    }, Signature=${signature}`;
  return { url, headers, body };
}

/** The `Request` of signed parts. */
export function toRequest(parts: SignedParts): Request {
  return new Request(parts.url, {
    method: "POST",
    headers: parts.headers,
    body: parts.body,
  });
}

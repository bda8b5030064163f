/**
 * AWS Signature Version 4 verification of `Authorization` headers.
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { ValidationException } from "../mod.ts";
import {
  IncompleteSignatureException,
  InvalidSignatureException,
  MissingAuthenticationTokenException,
  UnrecognizedClientException,
} from "./errors.ts";

const ALGORITHM = "AWS4-HMAC-SHA256";
const TERMINATOR = "aws4_request";
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;
/** Headers a request must sign: without them a signature could be replayed on another host, time or operation. */
const MUST_SIGN = ["host", "x-amz-date", "x-amz-target"];
/** An HTTP field name (RFC 9110 token), lower case as SigV4 lists them. */
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
/** An access key id: at most 128 word characters, as AWS's. */
const ACCESS_KEY_ID = /^\w{1,128}$/;
/** The fields of an `Authorization` header, each exactly once. */
const AUTHORIZATION_FIELDS = ["Credential", "SignedHeaders", "Signature"];

/** What an `Authorization: AWS4-HMAC-SHA256 …` header says. */
export interface Authorization {
  accessKeyId: string;
  /** `YYYYMMDD` of the credential scope. */
  scopeDate: string;
  region: string;
  service: string;
  terminator: string;
  /** Lower-case header names, as listed. */
  signedHeaders: string[];
  /** 64 lower-case hex digits. */
  signature: string;
}

/** The secret of an access key, as the verifier needs it. */
export interface SigningSecret {
  readonly accessKeyId: string;
  /** The account every request signed with this key runs in. */
  readonly accountId: string;
  /** UTF-8 bytes of the secret access key. */
  readonly secret: Uint8Array;
}

/**
 * Where the verifier finds secrets. Return the same object for the same
 * key while it stays valid: the verifier caches derived keys per object.
 */
export interface SecretSource {
  resolve(accessKeyId: string): Promise<SigningSecret | undefined>;
}

/** Settings of a {@linkcode SigV4Verifier}. */
export interface SigV4Options {
  /** The only region a credential scope may name. */
  region: string;
  /** The only service a credential scope may name; `kms`. */
  service?: string;
  /** How far `X-Amz-Date` may be from the server's clock. */
  clockSkewSeconds: number;
  /** The clock, epoch milliseconds. */
  now: () => number;
  secrets: SecretSource;
  /** Bounds on the signed headers, which are all the verifier reads. */
  limits: SignedHeaderLimits;
}

/**
 * How many headers a request may sign, and their canonical size. Unsigned
 * headers are never read; the HTTP layer bounds the request head as a whole.
 */
export interface SignedHeaderLimits {
  maxHeaders: number;
  maxHeaderBytes: number;
}

/** The part of a request a signature covers (a `Request` is one). */
export interface SignedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
}

/**
 * Parses an `Authorization` header.
 *
 * @throws {MissingAuthenticationTokenException} when there is none.
 * @throws {IncompleteSignatureException} when it is not a complete SigV4 header.
 * @example
 * ```ts
 * const auth = parseAuthorization(request.headers.get("authorization"));
 * console.log(auth.accessKeyId);
 * ```
 */
export function parseAuthorization(header: string | null): Authorization {
  if (header === null || header.trim() === "") {
    throw new MissingAuthenticationTokenException(
      "Request is missing Authentication Token",
    );
  }
  const space = header.indexOf(" ");
  if (space < 0 || header.slice(0, space) !== ALGORITHM) {
    throw new IncompleteSignatureException(
      `the Authorization header must use the ${ALGORITHM} algorithm`,
    );
  }
  // Strict: a second Authorization header reaches us joined to the first
  // with ", ", so any field that is unknown, repeated or without a value
  // refuses the request rather than letting one value override another.
  const parts = new Map<string, string>();
  for (const part of header.slice(space + 1).split(",")) {
    const eq = part.indexOf("=");
    const name = part.slice(0, eq).trim();
    if (eq < 0 || !AUTHORIZATION_FIELDS.includes(name) || parts.has(name)) {
      throw new IncompleteSignatureException(
        "the Authorization header must hold Credential, SignedHeaders and Signature once each, and nothing else (was it sent twice?)",
      );
    }
    parts.set(name, part.slice(eq + 1).trim());
  }
  const credential = parts.get("Credential")?.split("/");
  const signedHeaders = parts.get("SignedHeaders");
  const signature = parts.get("Signature");
  if (
    credential === undefined || signedHeaders === undefined ||
    signature === undefined
  ) {
    throw new IncompleteSignatureException(
      "the Authorization header needs Credential, SignedHeaders and Signature",
    );
  }
  if (credential.length !== 5 || credential.some((p) => p === "")) {
    throw new IncompleteSignatureException(
      "Credential must be <access key id>/<date>/<region>/<service>/aws4_request",
    );
  }
  if (!HEX_SHA256.test(signature)) {
    throw new IncompleteSignatureException(
      "Signature must be 64 lower-case hexadecimal digits",
    );
  }
  const headers = signedHeaders.split(";");
  if (!headers.every((name) => HEADER_NAME.test(name))) {
    throw new IncompleteSignatureException(
      "SignedHeaders must be lower-case header names separated by semicolons",
    );
  }
  const [accessKeyId, scopeDate, region, service, terminator] = credential;
  if (!ACCESS_KEY_ID.test(accessKeyId)) {
    throw new IncompleteSignatureException(
      "the access key id in Credential must be at most 128 letters or digits",
    );
  }
  return {
    accessKeyId,
    scopeDate,
    region,
    service,
    terminator,
    signedHeaders: headers,
    signature,
  };
}

/** RFC 3986 percent-encoding, as SigV4 canonical forms use. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function canonicalUri(url: URL): string {
  const path = url.pathname.split("/").map(uriEncode).join("/");
  return path === "" ? "/" : path;
}

function canonicalQuery(url: URL): string {
  return [...url.searchParams]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort(([ak, av], [bk, bv]) =>
      ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0
    )
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

function canonicalHeaders(
  headers: Headers,
  url: URL,
  names: string[],
  limits: SignedHeaderLimits,
): string {
  if (names.length > limits.maxHeaders) {
    throw new ValidationException(
      `requests sign at most ${limits.maxHeaders} headers`,
    );
  }
  let out = "";
  for (const name of names) {
    const value = headers.get(name) ?? (name === "host" ? url.host : null);
    if (value === null) {
      throw new IncompleteSignatureException(
        `the signed header ${name} is not in the request`,
      );
    }
    out += `${name}:${value.trim().replace(/\s+/g, " ")}\n`;
  }
  if (out.length > limits.maxHeaderBytes) {
    throw new ValidationException(
      `the signed headers are larger than ${limits.maxHeaderBytes} bytes`,
    );
  }
  return out;
}

function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: Uint8Array, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

/**
 * HMAC-SHA256 under a fixed key of at most 64 bytes, its padded keys
 * computed once (RFC 2104). Per request this is two plain SHA-256 runs;
 * `createHmac` imports its key anew on each call, which costs several
 * times more.
 */
export class HmacSha256Key {
  readonly #inner = Buffer.alloc(64, 0x36);
  readonly #outer = Buffer.alloc(64, 0x5c);

  constructor(key: Uint8Array) {
    if (key.byteLength > 64) throw new RangeError("HMAC key over 64 bytes");
    for (let i = 0; i < key.byteLength; i++) {
      this.#inner[i] ^= key[i];
      this.#outer[i] ^= key[i];
    }
  }

  /** The MAC of `data`. */
  sign(data: string): Buffer {
    const inner = createHash("sha256").update(this.#inner).update(data)
      .digest();
    return createHash("sha256").update(this.#outer).update(inner).digest();
  }
}

/** The SigV4 signing key of a secret for one day, region and service. */
export function deriveSigningKey(
  secret: Uint8Array,
  scopeDate: string,
  region: string,
  service: string,
): Buffer {
  const start = Buffer.concat([Buffer.from("AWS4"), secret]);
  try {
    return hmac(
      hmac(hmac(hmac(start, scopeDate), region), service),
      TERMINATOR,
    );
  } finally {
    start.fill(0);
  }
}

function dateOf(amzDate: string): number {
  const m = AMZ_DATE.exec(amzDate);
  if (m === null) return NaN;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/**
 * Verifies SigV4-signed requests: header parsing, canonical request over the
 * signed headers, payload hash, credential scope, clock skew and a
 * constant-time signature comparison. Derived signing keys are cached per
 * secret and day, so no request decrypts or derives anything twice.
 *
 * @example
 * ```ts
 * const verifier = new SigV4Verifier({ region: "eu-west-2", clockSkewSeconds: 300, now: Date.now, secrets, limits: DEFAULT_LIMITS });
 * const auth = parseAuthorization(request.headers.get("authorization"));
 * const secret = await verifier.verify(auth, request, body);
 * ```
 */
export class SigV4Verifier {
  readonly #options: Required<SigV4Options>;
  readonly #keys = new WeakMap<
    SigningSecret,
    { date: string; key: HmacSha256Key }
  >();

  constructor(options: SigV4Options) {
    this.#options = { service: "kms", ...options };
  }

  /**
   * Checks `auth` against the request and its body; returns the secret's
   * owner.
   *
   * @throws {IncompleteSignatureException} when a needed header is missing.
   * @throws {InvalidSignatureException} when scope, date, payload hash or
   * signature is wrong.
   * @throws {UnrecognizedClientException} when the access key is unknown.
   */
  async verify(
    auth: Authorization,
    request: SignedRequest,
    body: Uint8Array,
  ): Promise<SigningSecret> {
    const amzDate = this.#checkDate(auth, request.headers);
    this.#checkScope(auth);
    for (const name of MUST_SIGN) {
      if (!auth.signedHeaders.includes(name)) {
        throw new IncompleteSignatureException(
          `the ${name} header must be signed`,
        );
      }
    }
    if (request.headers.has("x-amz-security-token")) {
      throw new UnrecognizedClientException(
        "okms does not issue session tokens: sign with an access key of okms",
      );
    }
    const secret = await this.#options.secrets.resolve(auth.accessKeyId);
    if (secret === undefined) {
      throw new UnrecognizedClientException(
        "The security token included in the request is invalid.",
      );
    }
    const payloadHash = sha256Hex(body);
    const claimed = request.headers.get("x-amz-content-sha256");
    if (claimed !== null && claimed !== payloadHash) {
      throw new InvalidSignatureException(
        "The provided x-amz-content-sha256 header does not match what was computed.",
      );
    }
    const url = new URL(request.url);
    const canonicalRequest = [
      request.method,
      canonicalUri(url),
      canonicalQuery(url),
      canonicalHeaders(
        request.headers,
        url,
        auth.signedHeaders,
        this.#options.limits,
      ),
      auth.signedHeaders.join(";"),
      payloadHash,
    ].join("\n");
    const scope =
      `${auth.scopeDate}/${auth.region}/${auth.service}/${TERMINATOR}`;
    const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${
      sha256Hex(canonicalRequest)
    }`;
    const expected = this.#signingKey(secret, auth.scopeDate).sign(
      stringToSign,
    );
    if (!timingSafeEqual(expected, Buffer.from(auth.signature, "hex"))) {
      throw new InvalidSignatureException(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
      );
    }
    return secret;
  }

  #checkDate(auth: Authorization, headers: Headers): string {
    const amzDate = headers.get("x-amz-date");
    if (amzDate === null) {
      throw new IncompleteSignatureException(
        "Authorization header requires existence of an X-Amz-Date header.",
      );
    }
    const signedAt = dateOf(amzDate);
    if (Number.isNaN(signedAt)) {
      throw new IncompleteSignatureException(
        "X-Amz-Date must be in the form YYYYMMDD'T'HHMMSS'Z'",
      );
    }
    if (amzDate.slice(0, 8) !== auth.scopeDate) {
      throw new InvalidSignatureException(
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${
          auth.scopeDate.slice(0, 8)
        }' != '${amzDate.slice(0, 8)}'`,
      );
    }
    const now = this.#options.now();
    const skew = this.#options.clockSkewSeconds * 1000;
    if (signedAt < now - skew) {
      throw new InvalidSignatureException(
        `Signature expired: ${amzDate} is now earlier than the ${this.#options.clockSkewSeconds} seconds the server allows`,
      );
    }
    if (signedAt > now + skew) {
      throw new InvalidSignatureException(
        `Signature not yet current: ${amzDate} is later than the ${this.#options.clockSkewSeconds} seconds the server allows`,
      );
    }
    return amzDate;
  }

  #checkScope(auth: Authorization): void {
    const { region, service } = this.#options;
    if (auth.region !== region) {
      throw new InvalidSignatureException(
        `Credential should be scoped to a valid region: this server is ${region}`,
      );
    }
    if (auth.service !== service) {
      throw new InvalidSignatureException(
        `Credential should be scoped to correct service: '${service}'.`,
      );
    }
    if (auth.terminator !== TERMINATOR) {
      throw new InvalidSignatureException(
        `Credential should be scoped with a valid terminator: '${TERMINATOR}'.`,
      );
    }
  }

  #signingKey(secret: SigningSecret, scopeDate: string): HmacSha256Key {
    const cached = this.#keys.get(secret);
    if (cached?.date === scopeDate) return cached.key;
    const { region, service } = this.#options;
    const derived = deriveSigningKey(secret.secret, scopeDate, region, service);
    const key = new HmacSha256Key(derived);
    derived.fill(0);
    this.#keys.set(secret, { date: scopeDate, key });
    return key;
  }
}

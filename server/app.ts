/**
 * `createApp`: the Hono app speaking the AWS KMS JSON 1.1 protocol.
 * @module
 */
import { Hono } from "hono";
import { KmsError, type Okms, type OkmsAccount } from "../mod.ts";
import type { AuditRecord } from "./audit.ts";
import {
  errorStatus,
  SerializationException,
  ThrottlingException,
  UnknownRouteException,
} from "./errors.ts";
import { DEFAULT_LIMITS, readBody, type RequestLimits } from "./limits.ts";
import type { Metrics } from "./metrics.ts";
import { type Operation, operationFor, OPERATIONS } from "./operations.ts";
import {
  parseAuthorization,
  type SecretSource,
  SigV4Verifier,
} from "./sigv4.ts";
import type { AccountRateLimit, InFlightLimit } from "./throttling.ts";
import { parseRequestBody, toWire } from "./wire.ts";

/** Settings of {@linkcode createApp}. */
export interface AppOptions {
  /** The open library; every request runs in one of its accounts. */
  okms: Okms;
  /** The access keys (see `Credentials`). */
  credentials: SecretSource;
  /** Receives one record per request (see `AuditLog.write`). */
  audit?: (record: AuditRecord) => void;
  /** How far `X-Amz-Date` may be from the server's clock; 300. */
  clockSkewSeconds?: number;
  /** Size limits; {@linkcode DEFAULT_LIMITS} for those not given. */
  limits?: Partial<RequestLimits>;
  /** The operations offered; {@linkcode OPERATIONS}. */
  operations?: Readonly<Record<string, Operation>>;
  /** The clock for signature dates, epoch milliseconds; `Date.now`. */
  now?: () => number;
  /** Where internal faults are reported (one JSON line each); stderr. */
  faultLog?: (line: string) => void;
  /** The bound on requests in flight; none when absent. */
  inFlight?: InFlightLimit;
  /** The per-account request-rate quota; none when absent. */
  accountRate?: AccountRateLimit;
  /** Receives every request's outcome and every throttling. */
  metrics?: Metrics;
}

const JSON_1_1 = "application/x-amz-json-1.1";
/** How long one health check's answer serves later probes. */
export const HEALTH_CACHE_MS = 1000;

function checkContentType(value: string | null): void {
  if (value?.split(";")[0].trim().toLowerCase() !== JSON_1_1) {
    throw new SerializationException(`Content-Type must be ${JSON_1_1}`);
  }
}

/** The key an operation's result names, if any: `KeyId` or `KeyMetadata.Arn`. */
function keyIdOf(result: unknown): string | undefined {
  const output = result as
    | { keyId?: unknown; keyMetadata?: { arn?: unknown } }
    | undefined;
  const keyId = output?.keyId ?? output?.keyMetadata?.arn;
  return typeof keyId === "string" ? keyId : undefined;
}

function newRecord(): AuditRecord {
  return {
    time: new Date().toISOString(),
    requestId: crypto.randomUUID(),
    outcome: "success",
    status: 0,
    latencyMs: 0,
  };
}

function answer(
  record: AuditRecord,
  status: number,
  body: string | null,
  extra?: Record<string, string>,
): Response {
  const headers: Record<string, string> = {
    ...extra,
    "x-amzn-requestid": record.requestId,
  };
  if (body !== null) headers["content-type"] = JSON_1_1;
  return new Response(body, { status, headers });
}

/**
 * The okms HTTP app: `POST /` with `X-Amz-Target: TrentService.<Operation>`
 * and a JSON body, SigV4-signed. Every answer carries `x-amzn-RequestId`;
 * errors are `{"__type", "message"}` with AWS's status codes; one audit
 * record per request. `GET /health` answers without authentication.
 *
 * Hono routes; each route's handler builds its `Response` itself, so no
 * middleware or context machinery stands in front of the KMS handler.
 *
 * @example
 * ```ts
 * const app = createApp({ okms, credentials, audit: auditLog.write.bind(auditLog) });
 * Deno.serve({ hostname: "127.0.0.1", port: 8080 }, app.fetch);
 * ```
 */
export function createApp(options: AppOptions): Hono {
  const { okms, audit, metrics, operations = OPERATIONS } = options;
  const { inFlight, accountRate } = options;
  const faultLog = options.faultLog ?? ((line) => console.error(line));
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const verifier = new SigV4Verifier({
    region: okms.config.region,
    clockSkewSeconds: options.clockSkewSeconds ?? 300,
    now: options.now ?? Date.now,
    secrets: options.credentials,
    limits,
  });
  const accounts = new Map<string, OkmsAccount>();
  const accountOf = async (accountId: string) => {
    let account = accounts.get(accountId);
    if (account === undefined) {
      account = await okms.account(accountId);
      accounts.set(accountId, account);
    }
    return account;
  };

  /** The error's AWS answer; a fault that is not a KmsError is logged, not sent. */
  const errorAnswer = (
    record: AuditRecord,
    error: unknown,
    headers?: Record<string, string>,
  ): Response => {
    let kmsError: KmsError;
    if (error instanceof KmsError) {
      kmsError = error;
      if (error instanceof ThrottlingException) {
        metrics?.throttled(error.reason);
      }
    } else {
      faultLog(JSON.stringify({
        time: new Date().toISOString(),
        requestId: record.requestId,
        fault: error instanceof Error ? `${error.name}: ${error.message}` : "?",
      }));
      kmsError = new KmsError(
        `okms failed internally; the server log has the details under request id ${record.requestId}`,
      );
    }
    record.errorType = kmsError.name;
    record.errorMessage = kmsError.message;
    if (kmsError.keyArn !== undefined) record.keyId = kmsError.keyArn;
    return answer(
      record,
      errorStatus(kmsError),
      JSON.stringify({ __type: kmsError.name, message: kmsError.message }),
      headers,
    );
  };

  /** Audits and counts one answered request. */
  const finish = (
    record: AuditRecord,
    response: Response,
    started: number,
  ): Response => {
    record.status = response.status;
    if (record.status >= 400) record.outcome = "error";
    record.latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
    audit?.(record);
    metrics?.observe(record);
    return response;
  };

  /** Authenticates and decodes a request; zeroes its body whatever happens. */
  const decode = async (
    request: Request,
    body: Uint8Array,
    record: AuditRecord,
  ) => {
    try {
      const headers = request.headers;
      const auth = parseAuthorization(headers.get("authorization"));
      record.accessKeyId = auth.accessKeyId;
      const caller = await verifier.verify(auth, request, body);
      record.accountId = caller.accountId;
      const { name, operation } = operationFor(
        operations,
        headers.get("x-amz-target"),
      );
      record.operation = name;
      accountRate?.take(caller.accountId);
      checkContentType(headers.get("content-type"));
      const input: { keyId?: unknown; encryptionContext?: unknown } = operation
        .decode(parseRequestBody(body), name);
      return { caller, operation, input };
    } finally {
      body.fill(0); // it may hold a plaintext in base64
    }
  };

  const operate = async (
    request: Request,
    record: AuditRecord,
  ): Promise<Response> => {
    let body: Uint8Array;
    try {
      body = await readBody(request, limits.maxBodyBytes, limits.bodyTimeoutMs);
    } catch (error) {
      // The rest of the body may still be on its way: the connection cannot
      // carry another request, so it closes after this answer.
      return errorAnswer(record, error, { connection: "close" });
    }
    const { caller, operation, input } = await decode(request, body, record);
    if (typeof input.keyId === "string") record.keyId = input.keyId;
    if (input.encryptionContext !== undefined) {
      record.encryptionContext = input.encryptionContext as Record<
        string,
        string
      >;
    }
    // The bound is on the work itself: a client that is slow to send its
    // body, or sends a bad one, holds no place.
    inFlight?.enter();
    let result: unknown;
    try {
      result = await operation.run(await accountOf(caller.accountId), input);
    } finally {
      inFlight?.leave();
    }
    record.keyId = keyIdOf(result) ?? record.keyId;
    if (result === undefined) return answer(record, 200, null);
    try {
      return answer(record, 200, JSON.stringify(toWire(result)));
    } finally {
      (result as Partial<Disposable>)[Symbol.dispose]?.();
    }
  };

  // One check a second at most, however many probes come: they are free for
  // anyone to send, and each check calls the HSM and the store.
  let lastCheck: { at: number; healthy: Promise<boolean> } | undefined;
  const health = (): Promise<boolean> => {
    const now = performance.now();
    if (lastCheck === undefined || now - lastCheck.at >= HEALTH_CACHE_MS) {
      lastCheck = {
        at: now,
        healthy: okms.checkHealth().then(() => true, () => false),
      };
    }
    return lastCheck.healthy;
  };

  const app = new Hono();
  // Health probes are neither audited nor authenticated, and say nothing
  // but ok or not.
  app.on(["GET", "HEAD"], "/health", async (c) => {
    const healthy = await health();
    return c.json(
      { status: healthy ? "ok" : "unavailable" },
      healthy ? 200 : 503,
    );
  });
  app.all(
    "/health",
    (c) =>
      c.json({ status: "method not allowed" }, 405, { allow: "GET, HEAD" }),
  );
  app.post("/", async (c) => {
    const started = performance.now();
    const record = newRecord();
    let response: Response;
    try {
      response = await operate(c.req.raw, record);
    } catch (error) {
      response = errorAnswer(record, error);
    }
    return finish(record, response, started);
  });
  app.notFound(() => {
    const record = newRecord();
    const started = performance.now();
    return finish(
      record,
      errorAnswer(
        record,
        new UnknownRouteException("okms answers POST / and GET /health only"),
      ),
      started,
    );
  });
  app.onError((error) => {
    // Only reached by a fault outside the handlers' own error handling.
    const record = newRecord();
    return finish(record, errorAnswer(record, error), performance.now());
  });
  return app;
}

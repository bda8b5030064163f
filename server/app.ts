/**
 * `createApp`: the Hono app speaking the AWS KMS JSON 1.1 protocol.
 * @module
 */
import { type Context, Hono } from "hono";
import { KmsError, type Okms, type OkmsAccount } from "../mod.ts";
import type { AuditRecord } from "./audit.ts";
import {
  errorStatus,
  SerializationException,
  UnknownRouteException,
} from "./errors.ts";
import {
  checkHeaders,
  DEFAULT_LIMITS,
  readBody,
  type RequestLimits,
} from "./limits.ts";
import { type Operation, operationFor, OPERATIONS } from "./operations.ts";
import {
  parseAuthorization,
  type SecretSource,
  SigV4Verifier,
} from "./sigv4.ts";
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
}

type Env = { Variables: { audit: AuditRecord } };

const JSON_1_1 = "application/x-amz-json-1.1";

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

function errorResponse(
  c: Context<Env>,
  error: unknown,
  faultLog: (line: string) => void,
): Response {
  const record = c.get("audit");
  let kmsError: KmsError;
  if (error instanceof KmsError) {
    kmsError = error;
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
  return c.body(
    JSON.stringify({ __type: kmsError.name, message: kmsError.message }),
    errorStatus(kmsError) as 400,
    { "content-type": JSON_1_1 },
  );
}

/**
 * The okms HTTP app: `POST /` with `X-Amz-Target: TrentService.<Operation>`
 * and a JSON body, SigV4-signed. Every answer carries `x-amzn-RequestId`;
 * errors are `{"__type", "message"}` with AWS's status codes; one audit
 * record per request.
 *
 * @example
 * ```ts
 * const app = createApp({ okms, credentials, audit: auditLog.write.bind(auditLog) });
 * Deno.serve({ hostname: "127.0.0.1", port: 8080 }, app.fetch);
 * ```
 */
export function createApp(options: AppOptions): Hono<Env> {
  const { okms, audit, operations = OPERATIONS } = options;
  const faultLog = options.faultLog ?? ((line) => console.error(line));
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const verifier = new SigV4Verifier({
    region: okms.config.region,
    clockSkewSeconds: options.clockSkewSeconds ?? 300,
    now: options.now ?? Date.now,
    secrets: options.credentials,
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

  const app = new Hono<Env>();
  app.use(async (c, next) => {
    const started = performance.now();
    const record: AuditRecord = {
      time: new Date().toISOString(),
      requestId: crypto.randomUUID(),
      outcome: "success",
      status: 0,
      latencyMs: 0,
    };
    c.set("audit", record);
    c.header("x-amzn-RequestId", record.requestId);
    await next();
    record.status = c.res.status;
    if (record.status >= 400) record.outcome = "error";
    record.latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
    audit?.(record);
  });

  app.post("/", async (c) => {
    const record = c.get("audit");
    const request = c.req.raw;
    checkHeaders(request.headers, limits);
    const body = await readBody(request, limits.maxBodyBytes);
    const auth = parseAuthorization(request.headers.get("authorization"));
    record.accessKeyId = auth.accessKeyId;
    const caller = await verifier.verify(auth, {
      method: request.method,
      url: new URL(request.url),
      headers: request.headers,
    }, body);
    record.accountId = caller.accountId;
    const { name, operation } = operationFor(
      operations,
      request.headers.get("x-amz-target"),
    );
    record.operation = name;
    checkContentType(request.headers.get("content-type"));
    let input: { keyId?: unknown; encryptionContext?: unknown };
    try {
      input = operation.decode(parseRequestBody(body), name);
    } finally {
      body.fill(0); // it may hold a plaintext in base64
    }
    if (typeof input.keyId === "string") record.keyId = input.keyId;
    if (input.encryptionContext !== undefined) {
      record.encryptionContext = input.encryptionContext as Record<
        string,
        string
      >;
    }
    const result = await operation.run(
      await accountOf(caller.accountId),
      input,
    );
    record.keyId = keyIdOf(result) ?? record.keyId;
    if (result === undefined) return c.body(null, 200);
    try {
      return c.body(JSON.stringify(toWire(result)), 200, {
        "content-type": JSON_1_1,
      });
    } finally {
      (result as Partial<Disposable>)[Symbol.dispose]?.();
    }
  });

  app.notFound((c) =>
    errorResponse(
      c,
      new UnknownRouteException("okms answers POST / only"),
      faultLog,
    )
  );
  app.onError((error, c) => errorResponse(c, error, faultLog));
  return app;
}

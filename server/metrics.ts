/**
 * Prometheus metrics, through `prom-client` (the Node.js Prometheus client,
 * which runs unchanged in Deno): requests by operation and outcome, request
 * latency, requests in flight and throttled, and HSM call latency. Served on
 * a listener of their own, off by default, so that the KMS port answers only
 * the KMS protocol.
 * @module
 */
import client from "prom-client";
import type { AuditRecord } from "./audit.ts";

/** Latency buckets, seconds: from 50 µs (an in-process HSM call) to 5 s. */
const BUCKETS = [
  0.00005,
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  5,
];

/**
 * The server's metrics. `observe` runs once per request (about 0.4 µs);
 * everything else is computed when Prometheus scrapes.
 *
 * @example
 * ```ts
 * const metrics = new Metrics(() => inFlight.current);
 * metrics.observe(auditRecord);
 * const text = await metrics.text();
 * ```
 */
export class Metrics {
  /** Every okms metric, for `text()` and for a `prom-client` user. */
  readonly registry: client.Registry = new client.Registry();
  readonly #requests = new client.Counter({
    name: "okms_requests_total",
    help:
      "Requests by AWS operation and outcome (success, or the error's __type)",
    labelNames: ["operation", "outcome"] as const,
    registers: [this.registry],
  });
  readonly #latency = new client.Histogram({
    name: "okms_request_duration_seconds",
    help: "Time from a request's arrival to its answer, by AWS operation",
    labelNames: ["operation"] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly #throttled = new client.Counter({
    name: "okms_requests_throttled_total",
    help:
      "Requests refused with ThrottlingException, by reason (in_flight: the server's bound; account_rate: the account's quota)",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  readonly #hsm = new client.Histogram({
    name: "okms_hsm_call_duration_seconds",
    help:
      "Time spent in PKCS#11, by okms HSM operation (encrypt, decrypt, random, generate_key, ...)",
    labelNames: ["call"] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  });

  /** `inFlight` gives the requests under way when Prometheus scrapes. */
  constructor(inFlight: () => number) {
    new client.Gauge({
      name: "okms_requests_in_flight",
      help: "Requests under way",
      registers: [this.registry],
      collect() {
        this.set(inFlight());
      },
    });
  }

  /** Counts one answered request. */
  observe(record: AuditRecord): void {
    const operation = record.operation ?? "unknown";
    this.#requests.inc({
      operation,
      outcome: record.errorType ?? "success",
    });
    this.#latency.observe({ operation }, record.latencyMs / 1000);
  }

  /** Records one HSM call's duration. */
  hsmCall(call: string, seconds: number): void {
    this.#hsm.observe({ call }, seconds);
  }

  /** Counts one throttled request. */
  throttled(reason: string): void {
    this.#throttled.inc({ reason });
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * The metrics listener's handler: `GET /metrics` (or `HEAD`) answers the
 * Prometheus text format; any other path is 404 and any other method 405.
 *
 * @example
 * ```ts
 * Deno.serve({ hostname: "127.0.0.1", port: 9464 }, metricsHandler(metrics));
 * ```
 */
export function metricsHandler(
  metrics: Metrics,
): (request: Request) => Promise<Response> {
  return async (request) => {
    if (new URL(request.url).pathname !== "/metrics") {
      return new Response("okms serves GET /metrics here\n", { status: 404 });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("use GET\n", {
        status: 405,
        headers: { allow: "GET, HEAD" },
      });
    }
    return new Response(await metrics.text(), {
      headers: { "content-type": metrics.registry.contentType },
    });
  };
}

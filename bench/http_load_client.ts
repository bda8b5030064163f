/**
 * What the HTTP benchmark asks of a load client, and what a client
 * reports: one signed KMS request repeated over keep-alive connections for
 * a while. Two clients implement it: `bench/http_load_wrk.ts` (the
 * default, Debian's `wrk`) and `bench/http_load_worker.ts` (`fetch` in a
 * Deno process).
 * @module
 */

/** One load run. */
export interface LoadSpec {
  /** The server, `http://127.0.0.1:<port>`. */
  url: string;
  /** The `X-Amz-Target` of every request, e.g. `TrentService.Encrypt`. */
  target: string;
  /** The JSON body of every request. */
  body: string;
  /** The access key that signs the requests. */
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** Keep-alive connections, each with one request in flight. */
  connections: number;
  /** How long, whole seconds (well inside the server's clock-skew window). */
  seconds: number;
}

/** What one load run measured; latencies in milliseconds. */
export interface LoadResult {
  /** Requests answered. */
  requests: number;
  /** Non-2xx answers and socket errors (connect, read, write, timeout). */
  errors: number;
  seconds: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  /** The first error or two, for the report. */
  errorSamples: string[];
}

/** A load generator. */
export type LoadClient = (spec: LoadSpec) => Promise<LoadResult>;

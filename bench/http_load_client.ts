/**
 * What the HTTP benchmark asks of a load client, and what a client
 * reports: one signed KMS request repeated over keep-alive connections for
 * a while. Two clients implement it: `bench/http_load_wrk.ts` (the
 * default, Debian's `wrk`) and `bench/http_load_worker.ts` (`fetch` in a
 * Deno process). {@linkcode measureRun} runs one level: a warm-up, then a
 * measured run with counters read around it.
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

/** The request of a run, but for its connections and seconds. */
export type LoadRequest = Omit<LoadSpec, "connections" | "seconds">;

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

/** Seconds of a level: unmeasured warm-up (0 for none), then measured. */
export interface Timing {
  warmup: number;
  seconds: number;
}

/** A measured run and the counters read just before and after it. */
export interface MeasuredRun<T> {
  result: LoadResult;
  before: T;
  after: T;
  /** Requests answered, the warm-up's included. */
  answered: number;
}

/**
 * A warm-up run of `request` on `connections`, then a measured one with
 * `read` called just before and just after it.
 *
 * @example
 * ```ts
 * const { result, before, after } = await measureRun(client, request, 64, { warmup: 1, seconds: 5 }, () => server.usage());
 * console.log((after.cpuUs - before.cpuUs) / result.requests, "µs per request");
 * ```
 */
export async function measureRun<T>(
  client: LoadClient,
  request: LoadRequest,
  connections: number,
  { warmup, seconds }: Timing,
  read: () => Promise<T>,
): Promise<MeasuredRun<T>> {
  const warm = warmup > 0
    ? (await client({ ...request, connections, seconds: warmup })).requests
    : 0;
  const before = await read();
  const result = await client({ ...request, connections, seconds });
  const after = await read();
  return { result, before, after, answered: warm + result.requests };
}

/**
 * Prints one line of progress for a measured run, then its error samples.
 *
 * @example
 * ```ts
 * logRun("Encrypt, 64 conn.", result, "server 165 µs CPU/req");
 * ```
 */
export function logRun(label: string, result: LoadResult, cpu: string): void {
  console.log(
    `  ${label}: ${Math.round(result.requestsPerSecond)} req/s, ` +
      `p99 ${result.p99.toFixed(2)} ms, ${result.errors} errors, ${cpu}`,
  );
  for (const sample of result.errorSamples) console.log(`    ${sample}`);
}

/**
 * The Deno load client of `bench/http_load.ts` (`--client deno`): a Deno
 * process of its own, pinned to the client CPU, keeps one request in
 * flight per connection with `fetch` for the run's seconds, signing every
 * request afresh as an AWS SDK would. It costs the client far more CPU per
 * request than wrk does.
 *
 * Run as a child: `deno run --allow-net=127.0.0.1 bench/http_load_worker.ts
 * '<LoadSpec JSON>'` prints one {@linkcode LoadResult} JSON line.
 * @module
 */
import type { LoadClient, LoadResult, LoadSpec } from "./http_load_client.ts";
import { KmsSigner } from "./http_load_signer.ts";
import { pinned } from "./pinning.ts";

const WORKER = new URL(import.meta.url).pathname;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const url = new URL(spec.url);
  const signer = new KmsSigner({ ...spec, host: url.host });
  const body = new TextEncoder().encode(spec.body);
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + spec.seconds * 1000;
  await Promise.all(
    Array.from({ length: spec.connections }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          const response = await fetch(`${url.origin}/`, {
            method: "POST",
            headers: signer.sign(spec.target, body),
            body,
          });
          const text = await response.text();
          latencies.push(performance.now() - t0);
          if (response.ok) continue;
          if (errorSamples.length < 2) {
            errorSamples.push(`${response.status} ${text.slice(0, 200)}`);
          }
        } catch (error) {
          if (errorSamples.length < 2) errorSamples.push(String(error));
        }
        errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: sorted.length,
    errors,
    seconds,
    requestsPerSecond: sorted.length / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? NaN,
    errorSamples,
  };
}

/**
 * The Deno client: runs each load in a child process of this module.
 *
 * @example
 * ```ts
 * const result = await denoClient({ url, target, body, accessKeyId, secretAccessKey, region, connections: 64, seconds: 5 });
 * ```
 */
export const denoClient: LoadClient = async (spec) => {
  const [command, args] = pinned("client", Deno.execPath(), [
    "run",
    "--allow-net=127.0.0.1",
    WORKER,
    JSON.stringify(spec),
  ]);
  const { success, stdout } = await new Deno.Command(command, {
    args,
    stdin: "null",
    stderr: "inherit",
  }).output();
  if (!success) throw new Error("the Deno load client failed");
  return JSON.parse(new TextDecoder().decode(stdout)) as LoadResult;
};

if (import.meta.main) {
  const result = await runLoad(JSON.parse(Deno.args[0]) as LoadSpec);
  console.log(JSON.stringify(result));
}

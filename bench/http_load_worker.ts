/**
 * The load client of `bench/http_load.ts`, run as a process of its own:
 * keeps `concurrency` signed KMS requests in flight over keep-alive `fetch`
 * connections to a loopback server, for at most `requests` requests or
 * `seconds` seconds (after `warmup` unmeasured ones), and prints JSON lines
 * on stdout: `{"progress": n}` every `progressEvery` measured requests, then
 * one `{"result": …}`.
 *
 * Usage: `deno run --allow-net=127.0.0.1 bench/http_load_worker.ts '<json>'`
 * with a {@linkcode WorkerConfig}.
 * @module
 */
import process from "node:process";
import { KmsSigner } from "./http_load_signer.ts";

/** The operations the load client drives. */
export type LoadOperation = "Encrypt" | "GenerateDataKey";

/** What the driver asks of one worker run. */
export interface WorkerConfig {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  keyId: string;
  operation: LoadOperation;
  concurrency: number;
  /** Unmeasured requests first, to open connections and warm the JIT. */
  warmup: number;
  /** Most measured requests. */
  requests: number;
  /** Most seconds of measured requests. */
  seconds: number;
  /** Print a progress line every this many measured requests; 0 for none. */
  progressEvery: number;
}

/** What one worker run measured; latencies in milliseconds. */
export interface WorkerResult {
  operation: LoadOperation;
  concurrency: number;
  requests: number;
  /** Failed requests, warmup ones included: non-200, bad answer or network error. */
  errors: number;
  seconds: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
  /** The client's CPU time (user + system) per measured request, µs. */
  clientCpuUs: number;
  /** The first few errors, for the report. */
  errorSamples: string[];
}

/** Encrypt's plaintext size, bytes. */
export const PLAINTEXT_BYTES = 32;
/** The encryption context of every request. */
export const CONTEXT = { purpose: "benchmark", tenant: "acme" } as const;
/** Distinct request bodies the client cycles through. */
const BODY_POOL = 64;

const encoder = new TextEncoder();

function bodies(config: WorkerConfig): Uint8Array<ArrayBuffer>[] {
  return Array.from({ length: BODY_POOL }, () => {
    const json = config.operation === "Encrypt"
      ? {
        KeyId: config.keyId,
        Plaintext: crypto.getRandomValues(new Uint8Array(PLAINTEXT_BYTES))
          .toBase64(),
        EncryptionContext: CONTEXT,
      }
      : {
        KeyId: config.keyId,
        KeySpec: "AES_256",
        EncryptionContext: CONTEXT,
      };
    return encoder.encode(JSON.stringify(json));
  });
}

/** The member every successful answer of `operation` carries. */
function answerMember(operation: LoadOperation): string {
  return operation === "Encrypt" ? "CiphertextBlob" : "Plaintext";
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(p * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

function emit(line: unknown): void {
  Deno.stdout.writeSync(encoder.encode(JSON.stringify(line) + "\n"));
}

/** Runs the load `config` describes and returns what it measured. */
export async function runLoad(config: WorkerConfig): Promise<WorkerResult> {
  const url = new URL(config.url);
  const endpoint = `${url.origin}/`;
  const signer = new KmsSigner({
    accessKeyId: config.accessKeyId,
    secretAccessKey: config.secretAccessKey,
    region: config.region,
    host: url.host,
  });
  const target = `TrentService.${config.operation}`;
  const member = answerMember(config.operation);
  const pool = bodies(config);
  const latencies = new Float64Array(config.requests);
  const errorSamples: string[] = [];
  let errors = 0;
  let next = 0;

  /** Sends one request; false (and one more error) unless it succeeded. */
  const one = async (): Promise<boolean> => {
    const body = pool[next++ % BODY_POOL];
    try {
      const response = await fetch(endpoint, {
        method: "POST",
        headers: signer.sign(target, body),
        body,
      });
      const text = await response.text();
      if (response.status === 200 && text.includes(`"${member}":"`)) {
        return true;
      }
      errors++;
      if (errorSamples.length < 5) {
        errorSamples.push(`${response.status} ${text.slice(0, 200)}`);
      }
    } catch (error) {
      errors++;
      if (errorSamples.length < 5) errorSamples.push(String(error));
    }
    return false;
  };

  let warmed = 0;
  await Promise.all(
    Array.from({ length: config.concurrency }, async () => {
      while (warmed < config.warmup) {
        warmed++;
        await one();
      }
    }),
  );

  let issued = 0;
  let measured = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + config.seconds * 1000;
  await Promise.all(
    Array.from({ length: config.concurrency }, async () => {
      while (issued < config.requests && performance.now() < deadline) {
        issued++;
        const t0 = performance.now();
        await one();
        latencies[measured++] = performance.now() - t0;
        if (config.progressEvery > 0 && measured % config.progressEvery === 0) {
          emit({ progress: measured });
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const sorted = latencies.subarray(0, measured).sort();
  let sum = 0;
  for (const ms of sorted) sum += ms;
  return {
    operation: config.operation,
    concurrency: config.concurrency,
    requests: measured,
    errors,
    seconds,
    requestsPerSecond: measured / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.length > 0 ? sorted[sorted.length - 1] : NaN,
    mean: measured > 0 ? sum / measured : NaN,
    clientCpuUs: (cpu.user + cpu.system) / measured,
    errorSamples,
  };
}

if (import.meta.main) {
  const config = JSON.parse(Deno.args[0]) as WorkerConfig;
  emit({ result: await runLoad(config) });
}

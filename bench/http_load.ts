/**
 * The HTTP load benchmark: `deno task bench:http [flags]`. It measures the
 * server, not the client:
 *
 * 1. The in-process cost of each operation (`bench/http_load_ops.ts`), in
 *    this process on a token of its own.
 * 2. The real server (`server/main.ts`, audit log to a file, SigV4 on) on a
 *    fresh data directory, pinned to CPU 0; its first access key signs the
 *    requests. One signed Encrypt makes the ciphertext Decrypt sends.
 * 3. Per operation and level: a warm-up, then a measured run of the load
 *    client pinned to CPU 1 (`bench/pinning.ts`), with the server's CPU
 *    time read from `/proc` before and after (`bench/http_load_server.ts`).
 *    The client is Debian's `wrk` sending one pre-signed request
 *    (`bench/http_load_wrk.ts`, installed when missing and root), signed
 *    again for every run so it stays inside the clock-skew window.
 * 4. A long Encrypt phase at the highest level for the RSS target: wrk runs
 *    of about a tenth of the requests each, sized from the rate just
 *    measured (wrk has no request limit), until the total is reached; the
 *    server's RSS is read between runs.
 * 5. The bare `Deno.serve` floor (`bench/http_floor_server.ts`) at the same
 *    levels, measured the same way.
 * 6. A Markdown report (`bench/http_load_report.ts`) with the targets.
 *
 * Flags:
 * - `--client wrk|deno`: the load client (default `wrk`; `deno` is `fetch`
 *   in a Deno process signing each request, `bench/http_load_worker.ts`).
 * - `--levels 1,16,64`: connections per level.
 * - `--seconds 5`, `--warmup 1`: measured and warm-up seconds per level.
 * - `--long 100000`: requests of the RSS phase (0 skips it).
 * - `--ops Encrypt,Decrypt,GenerateDataKey,GenerateDataKeyWithoutPlaintext`.
 * - `--skip-floor`: no bare `Deno.serve` rows.
 * - `--audit-log <file>`: where the server logs (default a temp file).
 * - `--cpu-prof <dir>`: the server writes a V8 `.cpuprofile` there on exit;
 *   `bench/cpuprofile_top.ts <file> --requests <n>` summarises it, with the
 *   request count this benchmark prints.
 *
 * Exits 1 when a request failed; a missed target is reported, not failed.
 * @module
 */
import { parseArgs } from "node:util";
import type { LoadClient, LoadSpec } from "./http_load_client.ts";
import {
  measureInProcess,
  type Operation,
  OPERATIONS,
  requestBody,
} from "./http_load_ops.ts";
import {
  FLOOR,
  formatReport,
  type LongPhase,
  type Row,
} from "./http_load_report.ts";
import { ServerProcess } from "./http_load_server.ts";
import { KmsSigner } from "./http_load_signer.ts";
import { denoClient } from "./http_load_worker.ts";
import { wrkClient } from "./http_load_wrk.ts";
import { MissingPackageError } from "../ffi/debian_package.ts";
import { placement } from "./pinning.ts";

/** In-process loop per operation, as `bench/hot_path_bench.ts` runs it. */
const IN_PROCESS = { n: 20_000, warmup: 2_000 } as const;
/** The long phase runs in about this many segments. */
const LONG_SEGMENTS = 10;
/** Signed requests stay well inside the server's 300 s clock-skew window. */
const MAX_RUN_SECONDS = 120;

const SERVER = new URL("../server/main.ts", import.meta.url).pathname;
const FLOOR_SERVER = new URL("./http_floor_server.ts", import.meta.url)
  .pathname;

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    client: { type: "string", default: "wrk" },
    levels: { type: "string", default: "1,16,64" },
    seconds: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    long: { type: "string", default: "100000" },
    ops: { type: "string", default: OPERATIONS.join(",") },
    "skip-floor": { type: "boolean", default: false },
    "audit-log": { type: "string" },
    "cpu-prof": { type: "string" },
  },
  strict: true,
});
const LEVELS = flags.levels.split(",").map(Number);
const SECONDS = Number(flags.seconds);
const WARMUP = Number(flags.warmup);
const LONG = Number(flags.long);
const OPS = flags.ops.split(",") as Operation[];
const isCount = (n: number, min: number, max = Infinity) =>
  Number.isInteger(n) && n >= min && n <= max;
if (
  !LEVELS.every((n) => isCount(n, 1)) ||
  !isCount(SECONDS, 1, MAX_RUN_SECONDS) || !isCount(WARMUP, 0, SECONDS) ||
  !isCount(LONG, 0)
) {
  throw new Error(
    `--levels: positive integers; --seconds: 1 to ${MAX_RUN_SECONDS}; ` +
      "--warmup: 0 to --seconds; --long: 0 or more",
  );
}
for (const op of OPS) {
  if (!OPERATIONS.includes(op)) {
    throw new Error(`--ops: ${op} is not one of ${OPERATIONS.join(", ")}`);
  }
}
if (flags.client !== "wrk" && flags.client !== "deno") {
  throw new Error("--client: wrk or deno");
}

/** The request of a level, but for its connections and seconds. */
type Request = Omit<LoadSpec, "connections" | "seconds">;
/** Where requests go and who signs them. */
type Signing = Omit<Request, "target" | "body">;

/** Requests the okms server answered, for the CPU profile's µs/request. */
let served = 0;

/** CPU model, cores, Deno version and date, for the report. */
async function machine(client: string): Promise<string> {
  const cpuinfo = new TextDecoder().decode(
    (await new Deno.Command("cat", { args: ["/proc/cpuinfo"] }).output())
      .stdout,
  );
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown CPU";
  return `${model}, ${navigator.hardwareConcurrency} cores, ` +
    `Deno ${Deno.version.deno}, ${new Date().toISOString().slice(0, 10)}; ` +
    `${placement(client)}; each level ${WARMUP} s warm-up, then ${SECONDS} s ` +
    "measured; audit log to a file, SigV4 on.";
}

/** A warm-up run, then a measured one with the server's CPU read around it. */
async function measureLevel(
  client: LoadClient,
  server: ServerProcess,
  request: Request,
  operation: Row["operation"],
  connections: number,
): Promise<Row> {
  if (WARMUP > 0) {
    served += (await client({ ...request, connections, seconds: WARMUP }))
      .requests;
  }
  const before = await server.usage();
  const result = await client({ ...request, connections, seconds: SECONDS });
  const after = await server.usage();
  served += result.requests;
  const row = {
    operation,
    connections,
    result,
    cpuUs: (after.cpuUs - before.cpuUs) / result.requests,
    mainThreadUs: (after.mainThreadUs - before.mainThreadUs) / result.requests,
  };
  console.log(
    `  ${operation}, ${connections} conn.: ${
      Math.round(result.requestsPerSecond)
    } req/s, p99 ${result.p99.toFixed(2)} ms, ${result.errors} errors, ` +
      `server ${row.cpuUs.toFixed(0)} µs CPU/req`,
  );
  for (const sample of result.errorSamples) console.log(`    ${sample}`);
  return row;
}

/** The long Encrypt phase: segments until `LONG` requests are answered. */
async function longPhase(
  client: LoadClient,
  server: ServerProcess,
  request: Request,
  connections: number,
  rate: number,
): Promise<LongPhase> {
  const seconds = Math.min(
    MAX_RUN_SECONDS,
    Math.max(1, Math.round(LONG / LONG_SEGMENTS / rate)),
  );
  console.log(
    `\nRSS phase: ${LONG} Encrypt at ${connections} connections, ` +
      `runs of ${seconds} s…`,
  );
  const checkpoints: [number, number][] = [[0, (await server.usage()).rssKiB]];
  let answered = 0;
  let errors = 0;
  for (let i = 0; answered < LONG && i < 4 * LONG_SEGMENTS; i++) {
    const result = await client({ ...request, connections, seconds });
    answered += result.requests;
    errors += result.errors;
    checkpoints.push([answered, (await server.usage()).rssKiB]);
  }
  served += answered;
  console.log(
    `  ${answered} requests, ${errors} errors; server RSS ` +
      checkpoints.map(([, kib]) => (kib / 1024).toFixed(1)).join(", ") +
      " MiB",
  );
  return { connections, goal: LONG, checkpoints, errors };
}

function iniValue(text: string, name: string): string {
  const m = new RegExp(`^${name} = (\\S+)$`, "m").exec(text);
  if (m === null) throw new Error(`the credentials file has no ${name}`);
  return m[1];
}

/** Starts okms on `dir`; the access key and key of its first start. */
async function startOkms(dir: string) {
  const listening = /listening on (\S+) \(region ([^,)]+)/;
  const keyArn = /arn:aws:kms:\S+:key\/[0-9a-f-]+/;
  const cpuProf = flags["cpu-prof"];
  const server = await ServerProcess.start([
    "run",
    "--allow-ffi",
    "--allow-env",
    "--allow-read",
    "--allow-write",
    "--allow-net",
    ...(cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${cpuProf}`] : []),
    SERVER,
    "--data-dir",
    `${dir}/data`,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--audit-log",
    flags["audit-log"] ?? `${dir}/audit.log`,
  ], (banner) => listening.test(banner) && keyArn.test(banner));
  try {
    const [, url, region] = listening.exec(server.banner)!;
    const ini = await Deno.readTextFile(`${dir}/data/credentials`);
    return {
      server,
      url,
      region,
      keyId: keyArn.exec(server.banner)![0],
      accessKeyId: iniValue(ini, "aws_access_key_id"),
      secretAccessKey: iniValue(ini, "aws_secret_access_key"),
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** One signed Encrypt from here: the ciphertext Decrypt sends. */
async function ciphertextOf(
  signing: Signing,
  keyId: string,
): Promise<Uint8Array> {
  const body = requestBody("Encrypt", { keyId });
  const response = await fetch(`${signing.url}/`, {
    method: "POST",
    headers: new KmsSigner({ ...signing, host: new URL(signing.url).host })
      .sign("TrentService.Encrypt", new TextEncoder().encode(body)),
    body,
  });
  const answer = await response.json();
  if (!response.ok) {
    throw new Error(`Encrypt failed: ${JSON.stringify(answer)}`);
  }
  return Uint8Array.fromBase64(answer.CiphertextBlob);
}

async function measureOkms(
  client: LoadClient,
  dir: string,
): Promise<{ rows: Row[]; long?: LongPhase }> {
  const okms = await startOkms(dir);
  const rows: Row[] = [];
  let long: LongPhase | undefined;
  try {
    const { server, url, region, keyId, accessKeyId, secretAccessKey } = okms;
    console.log(`\nokms server pid ${server.pid} on ${url}`);
    const base = { url, region, accessKeyId, secretAccessKey };
    let ciphertextBlob: Uint8Array | undefined;
    if (OPS.includes("Decrypt")) {
      ciphertextBlob = await ciphertextOf(base, keyId);
      served++;
    }
    for (const operation of OPS) {
      const request = {
        ...base,
        target: `TrentService.${operation}`,
        body: requestBody(operation, { keyId, ciphertextBlob }),
      };
      for (const connections of LEVELS) {
        rows.push(
          await measureLevel(client, server, request, operation, connections),
        );
      }
    }
    const top = rows.findLast((r) =>
      r.operation === "Encrypt" && r.connections === Math.max(...LEVELS)
    );
    if (LONG > 0 && top !== undefined) {
      const request = {
        ...base,
        target: "TrentService.Encrypt",
        body: requestBody("Encrypt", { keyId }),
      };
      long = await longPhase(
        client,
        server,
        request,
        top.connections,
        top.result.requestsPerSecond,
      );
    }
  } finally {
    const status = await okms.server.stop();
    if (!status.success) {
      console.log(
        `okms server exit ${status.code}:\n${okms.server.log.join("\n")}`,
      );
    }
  }
  return { rows, long };
}

async function measureFloor(client: LoadClient): Promise<Row[]> {
  const server = await ServerProcess.start(
    ["run", "--allow-net=127.0.0.1", FLOOR_SERVER],
    (banner) => banner.includes("listening on"),
  );
  try {
    const url = /listening on (\S+)/.exec(server.banner)![1];
    console.log(`\n${FLOOR} floor, pid ${server.pid} on ${url}`);
    const request = {
      url,
      region: "eu-west-2",
      accessKeyId: "AKIAFLOOR",
      secretAccessKey: "floor",
      target: "TrentService.Encrypt",
      body: requestBody("Encrypt", { keyId: "floor" }),
    };
    const rows: Row[] = [];
    for (const connections of LEVELS) {
      rows.push(
        await measureLevel(client, server, request, FLOOR, connections),
      );
    }
    return rows;
  } finally {
    await server.stop();
  }
}

async function main(): Promise<number> {
  let client: LoadClient;
  try {
    client = flags.client === "wrk" ? await wrkClient() : denoClient;
  } catch (error) {
    if (!(error instanceof MissingPackageError)) throw error;
    console.error(`bench:http: ${error.message}`);
    return 1;
  }
  const started = performance.now();
  console.log(
    `In-process: ${IN_PROCESS.n} calls of each operation after ` +
      `${IN_PROCESS.warmup} warm-up…`,
  );
  const inProcess = await measureInProcess(OPS, IN_PROCESS);
  const cpuProf = flags["cpu-prof"];
  if (cpuProf) await Deno.mkdir(cpuProf, { recursive: true });
  const dir = await Deno.makeTempDir({ prefix: "okms-http-load-" });
  let measured;
  try {
    measured = await measureOkms(client, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const floor = flags["skip-floor"] ? [] : await measureFloor(client);
  const rows = [...measured.rows, ...floor];
  console.log(
    "\n" + formatReport({
      machine: await machine(
        flags.client === "wrk" ? "wrk -t1" : "the Deno client",
      ),
      inProcess,
      rows,
      long: measured.long,
    }),
  );
  if (cpuProf) {
    console.log(
      `\nServer CPU profile in ${cpuProf}; the server answered ${served} ` +
        "requests: deno run --allow-read bench/cpuprofile_top.ts " +
        `<file> --requests ${served}`,
    );
  }
  console.log(
    `\nTotal ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  );
  const errors = rows.reduce((n, r) => n + r.result.errors, 0) +
    (measured.long?.errors ?? 0);
  return errors === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());

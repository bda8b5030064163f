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
 * With `--nodes 1,2` it measures a cluster instead
 * (`bench/http_load_cluster.ts`): a throwaway PostgreSQL, then okms nodes
 * on it sharing one data directory and one port (`--reuse-port`), the same
 * load against each node count, the CPU time of every node and of
 * PostgreSQL and the statements PostgreSQL ran, per request, and a report
 * of its own (`bench/http_load_cluster_report.ts`). On two CPUs node 1 and
 * PostgreSQL run on CPU 0, node 2 and the client on CPU 1
 * (`bench/pinning.ts` says why). No in-process loop, RSS phase or floor:
 * they are the single server's.
 *
 * Flags:
 * - `--client wrk|deno`: the load client (default `wrk`; `deno` is `fetch`
 *   in a Deno process signing each request, `bench/http_load_worker.ts`).
 * - `--levels 1,16,64`: connections per level.
 * - `--seconds 5`, `--warmup 1`: measured and warm-up seconds per level.
 * - `--long 100000`: requests of the RSS phase (0 skips it; 0 with `--nodes`).
 * - `--ops Encrypt,Decrypt,GenerateDataKey,GenerateDataKeyWithoutPlaintext`.
 * - `--skip-floor`: no bare `Deno.serve` rows.
 * - `--audit-log <file>`: where the server logs (default a temp file).
 * - `--cpu-prof <dir>`: the server writes a V8 `.cpuprofile` there on exit;
 *   `bench/cpuprofile_top.ts <file> --requests <n>` summarises it, with the
 *   request count this benchmark prints. Not with `--nodes`.
 * - `--nodes 1,2`: cluster mode, these node counts in ascending order
 *   (nodes are added, never removed).
 *
 * Exits 1 when a request failed; a missed target is reported, not failed.
 * @module
 */
import { parseArgs } from "node:util";
import {
  type LoadClient,
  type LoadRequest,
  logRun,
  measureRun,
} from "./http_load_client.ts";
import { measureCluster } from "./http_load_cluster.ts";
import { formatClusterReport } from "./http_load_cluster_report.ts";
import { requestsOf, startOkms, stopOkms } from "./http_load_okms.ts";
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

const FLOOR_SERVER = new URL("./http_floor_server.ts", import.meta.url)
  .pathname;

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    client: { type: "string", default: "wrk" },
    levels: { type: "string", default: "1,16,64" },
    seconds: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    long: { type: "string" },
    ops: { type: "string", default: OPERATIONS.join(",") },
    "skip-floor": { type: "boolean", default: false },
    "audit-log": { type: "string" },
    "cpu-prof": { type: "string" },
    nodes: { type: "string" },
  },
  strict: true,
});
const LEVELS = flags.levels.split(",").map(Number);
const SECONDS = Number(flags.seconds);
const WARMUP = Number(flags.warmup);
const NODES = flags.nodes?.split(",").map(Number);
const LONG = Number(flags.long ?? (NODES === undefined ? 100_000 : 0));
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
if (NODES !== undefined) {
  if (!NODES.every((n, i) => isCount(n, 1) && n > (NODES[i - 1] ?? 0))) {
    throw new Error("--nodes: positive integers in ascending order, e.g. 1,2");
  }
  if (LONG > 0 || flags["cpu-prof"] !== undefined) {
    throw new Error(
      "--long and --cpu-prof are the single server's: not with --nodes",
    );
  }
}
const TIMING = { warmup: WARMUP, seconds: SECONDS };

/** Requests the okms server answered, for the CPU profile's µs/request. */
let served = 0;

/** The load client's name, for the report. */
const CLIENT = flags.client === "wrk" ? "wrk -t1" : "the Deno client";

/** CPU model, cores, Deno version, date and `where` things ran. */
async function machine(where: string): Promise<string> {
  const cpuinfo = new TextDecoder().decode(
    (await new Deno.Command("cat", { args: ["/proc/cpuinfo"] }).output())
      .stdout,
  );
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown CPU";
  return `${model}, ${navigator.hardwareConcurrency} cores, ` +
    `Deno ${Deno.version.deno}, ${new Date().toISOString().slice(0, 10)}; ` +
    `${where}; each level ${WARMUP} s warm-up, then ${SECONDS} s ` +
    "measured; audit log to a file, SigV4 on.";
}

/** A warm-up run, then a measured one with the server's CPU read around it. */
async function measureLevel(
  client: LoadClient,
  server: ServerProcess,
  request: LoadRequest,
  operation: Row["operation"],
  connections: number,
): Promise<Row> {
  const { result, before, after, answered } = await measureRun(
    client,
    request,
    connections,
    TIMING,
    () => server.usage(),
  );
  served += answered;
  const row = {
    operation,
    connections,
    result,
    cpuUs: (after.cpuUs - before.cpuUs) / result.requests,
    mainThreadUs: (after.mainThreadUs - before.mainThreadUs) / result.requests,
  };
  logRun(
    `${operation}, ${connections} conn.`,
    result,
    `server ${row.cpuUs.toFixed(0)} µs CPU/req`,
  );
  return row;
}

/** The long Encrypt phase: segments until `LONG` requests are answered. */
async function longPhase(
  client: LoadClient,
  server: ServerProcess,
  request: LoadRequest,
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

async function measureOkms(
  client: LoadClient,
  dir: string,
): Promise<{ rows: Row[]; long?: LongPhase }> {
  const cpuProf = flags["cpu-prof"];
  const okms = await startOkms({
    dataDir: `${dir}/data`,
    auditLog: flags["audit-log"] ?? `${dir}/audit.log`,
    denoFlags: cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${cpuProf}`] : [],
  });
  const rows: Row[] = [];
  let long: LongPhase | undefined;
  try {
    const { server } = okms;
    console.log(`\nokms server pid ${server.pid} on ${okms.url}`);
    const requests = await requestsOf(okms, OPS);
    if (OPS.includes("Decrypt")) served++; // the Encrypt of its ciphertext
    for (const [operation, request] of requests) {
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
      long = await longPhase(
        client,
        server,
        requests.get("Encrypt")!,
        top.connections,
        top.result.requestsPerSecond,
      );
    }
  } finally {
    await stopOkms(okms);
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

/** Phases 1 to 6 on the single server; returns the failed requests. */
async function measureSingle(client: LoadClient): Promise<number> {
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
      machine: await machine(placement(CLIENT)),
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
  return rows.reduce((n, r) => n + r.result.errors, 0) +
    (measured.long?.errors ?? 0);
}

/** The cluster mode; returns the failed requests. */
async function measureNodes(
  client: LoadClient,
  nodes: number[],
): Promise<number> {
  const rows = await measureCluster(client, {
    nodes,
    operations: OPS,
    levels: LEVELS,
    timing: TIMING,
    auditLog: flags["audit-log"],
  });
  console.log(
    "\n" + formatClusterReport({
      machine: await machine(placement(CLIENT, Math.max(...nodes))),
      rows,
    }),
  );
  return rows.reduce((n, r) => n + r.result.errors, 0);
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
  const errors = NODES === undefined
    ? await measureSingle(client)
    : await measureNodes(client, NODES);
  console.log(
    `\nTotal ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  );
  return errors === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());

/**
 * The HTTP load benchmark: `deno task bench:http`.
 *
 * 1. Measures the in-process figure in this process: `okms.encrypt` (32 B,
 *    two-pair context) and `okms.generateDataKey` (AES_256) in a tight loop
 *    on a fresh data directory of its own.
 * 2. Starts the real server (`server/main.ts`) on another fresh data
 *    directory and a free loopback port, and reads the first start's access
 *    key from `<dataDir>/credentials`.
 * 3. Drives SigV4-signed Encrypt and GenerateDataKey requests from a separate
 *    process (`bench/http_load_worker.ts`, network permission for 127.0.0.1
 *    only) over keep-alive connections at several concurrencies, each level
 *    bounded in requests and seconds, while sampling the server's RSS.
 * 4. Runs a long Encrypt phase (100,000 requests by default) at the best
 *    concurrency, with the server's RSS at ten checkpoints, for the
 *    flatness target.
 * 5. Stops the server with SIGTERM and removes both data directories.
 *
 * Flags: `--levels 1,4,16,64`, `--requests 20000`, `--seconds 20`,
 * `--long 100000` (0 skips it), `--ops Encrypt,GenerateDataKey`,
 * `--cpu-prof <dir>` (the server writes a V8 `.cpuprofile` there on exit),
 * `--audit-log <file>` (default: a file in the server's temp directory),
 * `--skip-floor` (skips the bare `Deno.serve` floor of
 * `bench/http_floor_server.ts`, run at the same levels for reference).
 * @module
 */
import { parseArgs } from "node:util";
import { Okms } from "../mod.ts";
import {
  CONTEXT,
  type LoadOperation,
  PLAINTEXT_BYTES,
  type WorkerConfig,
  type WorkerResult,
} from "./http_load_worker.ts";

/** Targets of issue 5. */
const TARGET_RATIO = 0.4;
const TARGET_P99_MS = 10;
const FLAT_TOLERANCE = 0.05;
/** In-process loop, as `bench/hot_path_bench.ts` runs it. */
const IN_PROCESS = { n: 20_000, warmup: 2_000 } as const;
/** Unmeasured requests per level. */
const WARMUP_REQUESTS = 1_000;
/** RSS sampling period, ms. */
const RSS_PERIOD_MS = 200;
/** A worker gets this much longer than its `seconds` before it is killed. */
const WORKER_GRACE_MS = 30_000;
/** How long the server may take to start, and to stop after SIGTERM. */
const SERVER_START_MS = 60_000;
const SERVER_STOP_MS = 15_000;

const ROOT = new URL("..", import.meta.url).pathname;
const WORKER = new URL("./http_load_worker.ts", import.meta.url).pathname;
const SERVER = new URL("../server/main.ts", import.meta.url).pathname;
const FLOOR = new URL("./http_floor_server.ts", import.meta.url).pathname;

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    levels: { type: "string", default: "1,4,16,64" },
    requests: { type: "string", default: "20000" },
    seconds: { type: "string", default: "20" },
    long: { type: "string", default: "100000" },
    ops: { type: "string", default: "Encrypt,GenerateDataKey" },
    "cpu-prof": { type: "string" },
    "audit-log": { type: "string" },
    "skip-floor": { type: "boolean", default: false },
  },
  strict: true,
});
const LEVELS = flags.levels.split(",").map(Number);
const OPS = flags.ops.split(",") as LoadOperation[];
const REQUESTS = Number(flags.requests);
const SECONDS = Number(flags.seconds);
const LONG_REQUESTS = Number(flags.long);
for (const op of OPS) {
  if (op !== "Encrypt" && op !== "GenerateDataKey") {
    throw new Error(`--ops: ${op} is not Encrypt or GenerateDataKey`);
  }
}
if (
  ![...LEVELS, REQUESTS, SECONDS].every((n) => Number.isInteger(n) && n > 0) ||
  !(Number.isInteger(LONG_REQUESTS) && LONG_REQUESTS >= 0)
) {
  throw new Error("--levels, --requests, --seconds, --long: positive integers");
}

// ---------------------------------------------------------------- helpers

function fixed(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "-";
}

function thousands(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function mib(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i].length))
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))
      .join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  ")]
    .concat(rows.map(line)).join("\n");
}

/** Least-squares slope of `ys` over `xs`. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Lines of a byte stream. */
async function* linesOf(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    rest += text;
    let nl;
    while ((nl = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
  }
  if (rest !== "") yield rest;
}

// ------------------------------------------------------ in-process figure

interface InProcess {
  encrypt: number;
  generateDataKey: number;
}

async function timeLoop(
  n: number,
  warmup: number,
  fn: () => Promise<unknown>,
): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const started = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return n / ((performance.now() - started) / 1000);
}

/** ops/s of okms.encrypt and okms.generateDataKey in this process. */
async function measureInProcess(): Promise<InProcess> {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-http-inproc-" });
  try {
    const okms = await Okms.open({ dataDir });
    try {
      const key = await okms.createKey({ description: "http_load in-process" });
      const plaintext = crypto.getRandomValues(
        new Uint8Array(PLAINTEXT_BYTES),
      );
      const { n, warmup } = IN_PROCESS;
      const encrypt = await timeLoop(n, warmup, () =>
        okms.encrypt({
          keyId: key.keyId,
          plaintext,
          encryptionContext: CONTEXT,
        }));
      const generateDataKey = await timeLoop(n, warmup, async () => {
        using _dataKey = await okms.generateDataKey({
          keyId: key.keyId,
          keySpec: "AES_256",
          encryptionContext: CONTEXT,
        });
      });
      return { encrypt, generateDataKey };
    } finally {
      await okms.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

// ------------------------------------------------------------- the server

interface Server {
  pid: number;
  url: string;
  region: string;
  keyArn: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The server's stderr after its banner (fault lines, shutdown). */
  log: string[];
  /** SIGTERM, then waits (SIGKILL after {@linkcode SERVER_STOP_MS}). */
  stop(): Promise<Deno.CommandStatus>;
}

function iniValue(text: string, name: string): string {
  const m = new RegExp(`^${name} = (\\S+)$`, "m").exec(text);
  if (m === null) throw new Error(`the credentials file has no ${name}`);
  return m[1];
}

async function startServer(
  dir: string,
  auditLog: string,
  cpuProfDir?: string,
): Promise<Server> {
  const dataDir = `${dir}/data`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-ffi",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      ...(cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`] : []),
      SERVER,
      "--data-dir",
      dataDir,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--audit-log",
      auditLog,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines = linesOf(child.stderr);
  const log: string[] = [];
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, SERVER_STOP_MS);
    try {
      return await child.status;
    } finally {
      clearTimeout(timer);
    }
  };
  const startTimer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, SERVER_START_MS);
  try {
    const banner: string[] = [];
    while (!banner.some((l) => l.startsWith("Access keys:"))) {
      const { value, done } = await lines.next();
      if (done) {
        throw new Error(`the server did not start:\n${banner.join("\n")}`);
      }
      banner.push(value);
    }
    clearTimeout(startTimer);
    const text = banner.join("\n");
    const listening = /okms listening on (\S+) \(region (\S+),/.exec(text);
    const keyArn = /default key (arn:\S+)/.exec(text);
    if (listening === null || keyArn === null) {
      throw new Error(`unexpected server banner:\n${text}`);
    }
    // Keep draining stderr so the server never blocks on a full pipe.
    (async () => {
      for await (const line of { [Symbol.asyncIterator]: () => lines }) {
        if (log.length < 200) log.push(line);
      }
    })();
    const ini = await Deno.readTextFile(`${dataDir}/credentials`);
    return {
      pid: child.pid,
      url: listening[1],
      region: listening[2],
      keyArn: keyArn[1],
      accessKeyId: iniValue(ini, "aws_access_key_id"),
      secretAccessKey: iniValue(ini, "aws_secret_access_key"),
      log,
      stop,
    };
  } catch (error) {
    clearTimeout(startTimer);
    await stop();
    throw error;
  }
}

// ------------------------------------------------------------- the client

/**
 * Samples the server's RSS and CPU time every {@linkcode RSS_PERIOD_MS}.
 * Deno lets a script read `/proc/<pid>/` only with `--allow-all`, so a
 * small bash loop reads it (builtins only, one `sleep` per sample) and
 * prints `<VmRSS KiB> <utime+stime ticks>` lines; it ends with the server.
 */
class ProcSampler {
  readonly #child: Deno.ChildProcess;
  readonly #done: Promise<void>;
  /** Latest RSS, KiB. */
  rss = NaN;
  /** Latest CPU time, clock ticks (100 per second on Linux). */
  ticks = NaN;
  peak = 0;
  phasePeak = 0;
  /** Resolves at the first sample. */
  readonly ready: Promise<void>;

  constructor(pid: number) {
    const script = [
      'p="$1"',
      'while [ -r "/proc/$p/status" ]; do',
      "  rss=",
      '  while IFS= read -r l; do [[ $l == VmRSS:* ]] && rss="${l//[!0-9]/}"; done < "/proc/$p/status"',
      '  read -r -a f < "/proc/$p/stat" || break',
      '  echo "$rss $((f[13] + f[14]))"',
      `  sleep ${RSS_PERIOD_MS / 1000}`,
      "done",
    ].join("\n");
    const child = new Deno.Command("bash", {
      args: ["-c", script, "proc_sampler", String(pid)],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#child = child;
    const ready = Promise.withResolvers<void>();
    this.#done = (async () => {
      for await (const line of linesOf(child.stdout)) {
        const [rss, ticks] = line.split(" ").map(Number);
        if (!(rss > 0)) continue;
        this.rss = rss;
        this.ticks = ticks;
        this.peak = Math.max(this.peak, rss);
        this.phasePeak = Math.max(this.phasePeak, rss);
        ready.resolve();
      }
      ready.resolve();
    })();
    this.ready = ready.promise;
  }

  /** Starts a new phase peak from the latest sample. */
  resetPhase(): void {
    this.phasePeak = this.rss;
  }

  /** Waits for the next sample (at most 2 periods) and returns the RSS. */
  async fresh(): Promise<number> {
    const before = this.rss;
    const ticks = this.ticks;
    const until = performance.now() + 2 * RSS_PERIOD_MS + 50;
    while (performance.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
      if (this.rss !== before || this.ticks !== ticks) break;
    }
    return this.rss;
  }

  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch { /* already gone */ }
    await this.#child.status;
    await this.#done;
  }
}

/** Runs one worker process; `onProgress` sees each progress line. */
async function runWorker(
  config: WorkerConfig,
  onProgress: (measured: number) => void = () => {},
): Promise<WorkerResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", WORKER, JSON.stringify(config)],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, config.seconds * 1000 + WORKER_GRACE_MS);
  let result: WorkerResult | undefined;
  try {
    for await (const line of linesOf(child.stdout)) {
      const message = JSON.parse(line) as {
        progress?: number;
        result?: WorkerResult;
      };
      if (message.progress !== undefined) onProgress(message.progress);
      if (message.result !== undefined) result = message.result;
    }
    const status = await child.status;
    if (result === undefined || !status.success) {
      throw new Error(`the load worker failed (exit ${status.code})`);
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs the load client against the bare `Deno.serve` floor at each level
 * (Encrypt-shaped requests; the floor checks nothing).
 */
async function runFloor(base: Omit<WorkerConfig, "concurrency">) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", FLOOR],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines = linesOf(child.stderr);
  const results: (WorkerResult & { serverCpuUs: number })[] = [];
  const sampler = new ProcSampler(child.pid);
  try {
    const first = await lines.next();
    const url = /listening on (\S+)/.exec(first.value ?? "")?.[1];
    if (url === undefined) throw new Error("the floor server did not start");
    await sampler.ready;
    for (const concurrency of LEVELS) {
      const ticks = sampler.ticks;
      const result = await runWorker({ ...base, url, concurrency });
      await sampler.fresh();
      const serverCpuUs = (sampler.ticks - ticks) * 1e4 /
        (result.requests + WARMUP_REQUESTS);
      results.push({ ...result, serverCpuUs });
    }
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    for await (const _ of { [Symbol.asyncIterator]: () => lines }) {
      /* drain */
    }
  }
  return results;
}

// ------------------------------------------------------------------- main

interface Row {
  result: WorkerResult;
  peakRssKiB: number;
  ratio: number;
  /** Server CPU time per request of the level (warmup included), µs. */
  serverCpuUs: number;
}

interface LongPhase {
  concurrency: number;
  result: WorkerResult;
  /** [measured requests, RSS KiB] at start and every 10%. */
  checkpoints: [number, number][];
  slopeKiBPer10k: number;
  middleMean: number;
  lastMean: number;
  flat: boolean;
}

/** CPU count and model (read by `grep`: Deno keeps /proc to --allow-all). */
async function describeMachine(): Promise<string> {
  let model = "?";
  try {
    const out = await new Deno.Command("grep", {
      args: ["-m1", "model name", "/proc/cpuinfo"],
      stderr: "null",
    }).output();
    model = new TextDecoder().decode(out.stdout).split(":")[1]?.trim() || "?";
  } catch { /* no grep: leave it unknown */ }
  return `${navigator.hardwareConcurrency} CPU(s), ${model}; ` +
    `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}`;
}

async function main(): Promise<number> {
  const t0 = performance.now();
  console.log(`okms HTTP load benchmark: ${await describeMachine()}`);
  console.log(
    `Client and server share this machine's ${navigator.hardwareConcurrency} CPU(s): ` +
      "the load client's own CPU time (signing, fetch) is taken from the server.",
  );
  console.log(
    `Levels: concurrency ${
      LEVELS.join(", ")
    }; each ${WARMUP_REQUESTS} warmup ` +
      `requests, then at most ${thousands(REQUESTS)} requests or ${SECONDS} s.`,
  );

  console.log(
    `\nIn-process (this process, own data dir): ${
      thousands(IN_PROCESS.n)
    } iterations after ${thousands(IN_PROCESS.warmup)} warmup…`,
  );
  const inProcess = await measureInProcess();
  console.log(
    `  okms.encrypt 32 B, 2-pair context: ${
      thousands(inProcess.encrypt)
    } ops/s (${fixed(1e6 / inProcess.encrypt, 1)} µs/op)`,
  );
  console.log(
    `  okms.generateDataKey AES_256:      ${
      thousands(inProcess.generateDataKey)
    } ops/s (${fixed(1e6 / inProcess.generateDataKey, 1)} µs/op)`,
  );
  const inProcessOf = (op: LoadOperation) =>
    op === "Encrypt" ? inProcess.encrypt : inProcess.generateDataKey;

  const dir = await Deno.makeTempDir({ prefix: "okms-http-load-" });
  const cpuProfDir = flags["cpu-prof"];
  if (cpuProfDir) await Deno.mkdir(cpuProfDir, { recursive: true });
  let server: Server | undefined;
  let sampler: ProcSampler | undefined;
  const rows: Row[] = [];
  let long: LongPhase | undefined;
  let serverStatus: Deno.CommandStatus | undefined;
  let floor: Awaited<ReturnType<typeof runFloor>> = [];
  try {
    server = await startServer(
      dir,
      flags["audit-log"] ?? `${dir}/audit.log`,
      cpuProfDir,
    );
    sampler = new ProcSampler(server.pid);
    await sampler.ready;
    const idleRss = sampler.rss;
    console.log(
      `\nServer pid ${server.pid} on ${server.url} (region ${server.region}), ` +
        `RSS after start ${mib(idleRss)}; audit log to ${
          flags["audit-log"] ?? "a file in its temp dir"
        }.`,
    );
    const base = {
      url: server.url,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      region: server.region,
      keyId: server.keyArn,
      warmup: WARMUP_REQUESTS,
      requests: REQUESTS,
      seconds: SECONDS,
      progressEvery: 0,
    };
    for (const operation of OPS) {
      for (const concurrency of LEVELS) {
        sampler.resetPhase();
        const ticks = sampler.ticks;
        const result = await runWorker({ ...base, operation, concurrency });
        await sampler.fresh();
        const row = {
          result,
          peakRssKiB: sampler.phasePeak,
          ratio: result.requestsPerSecond / inProcessOf(operation),
          serverCpuUs: (sampler.ticks - ticks) * 1e4 /
            (result.requests + WARMUP_REQUESTS),
        };
        rows.push(row);
        console.log(
          `  ${operation} c=${concurrency}: ${
            thousands(result.requestsPerSecond)
          } req/s, p50 ${fixed(result.p50)} ms, p99 ${
            fixed(result.p99)
          } ms, max ${fixed(result.max)} ms, errors ${result.errors}, ` +
            `RSS peak ${mib(row.peakRssKiB)}; CPU/request: server ${
              fixed(row.serverCpuUs, 0)
            } µs, client ${fixed(result.clientCpuUs, 0)} µs`,
        );
        for (const sample of result.errorSamples) {
          console.log(`    error: ${sample}`);
        }
      }
    }

    const encryptRows = rows.filter((r) => r.result.operation === "Encrypt");
    if (LONG_REQUESTS > 0 && encryptRows.length > 0) {
      const best = encryptRows.reduce((a, b) =>
        b.result.requestsPerSecond > a.result.requestsPerSecond ? b : a
      );
      const concurrency = best.result.concurrency;
      const every = Math.max(1, Math.floor(LONG_REQUESTS / 10));
      console.log(
        `\nRSS flatness: ${
          thousands(LONG_REQUESTS)
        } Encrypt requests at c=${concurrency}, RSS every ${thousands(every)}…`,
      );
      const checkpoints: [number, number][] = [[0, await sampler.fresh()]];
      const seconds = Math.max(SECONDS, 120);
      const result = await runWorker(
        {
          ...base,
          operation: "Encrypt",
          concurrency,
          warmup: 0,
          requests: LONG_REQUESTS,
          seconds,
          progressEvery: every,
        },
        (measured) => checkpoints.push([measured, sampler!.rss]),
      );
      const rss = checkpoints.slice(1).map(([, kib]) => kib);
      const third = Math.floor(rss.length / 3);
      const middle = rss.slice(third, 2 * third);
      const last = rss.slice(2 * third);
      const middleMean = mean(middle);
      const lastMean = mean(last);
      long = {
        concurrency,
        result,
        checkpoints,
        slopeKiBPer10k: slope(
          checkpoints.slice(1).map(([n]) => n / 10_000),
          rss,
        ),
        middleMean,
        lastMean,
        flat: result.requests === LONG_REQUESTS && rss.length >= 3 &&
          Math.abs(lastMean - middleMean) <= FLAT_TOLERANCE * middleMean,
      };
      console.log(
        `  ${thousands(result.requestsPerSecond)} req/s, p50 ${
          fixed(result.p50)
        } ms, p99 ${fixed(result.p99)} ms, max ${
          fixed(result.max)
        } ms, errors ${result.errors}`,
      );
      console.log(
        "  RSS: " +
          checkpoints.map(([n, kib]) => `${n / 1000}k ${mib(kib)}`).join(", "),
      );
    }
    if (!flags["skip-floor"]) {
      console.log(
        "\nFloor: the same client against a bare Deno.serve answering a fixed body…",
      );
      floor = await runFloor({ ...base, operation: "Encrypt" });
      for (const r of floor) {
        console.log(
          `  floor c=${r.concurrency}: ${
            thousands(r.requestsPerSecond)
          } req/s, p50 ${fixed(r.p50)} ms, p99 ${fixed(r.p99)} ms, ` +
            `errors ${r.errors}; CPU/request: server ${
              fixed(r.serverCpuUs, 0)
            } µs, client ${fixed(r.clientCpuUs, 0)} µs`,
        );
      }
    }
  } finally {
    if (server !== undefined) serverStatus = await server.stop();
    await sampler?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }

  // ------------------------------------------------------------- report
  console.log("\n== Results ==");
  console.log(
    table(
      [
        "op",
        "conc",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors",
        "vs in-proc",
        "vs floor",
        "srv µs/req",
        "cli µs/req",
        "peak RSS",
      ],
      rows.map(({ result: r, peakRssKiB, ratio, serverCpuUs }) => [
        r.operation,
        String(r.concurrency),
        thousands(r.requestsPerSecond),
        fixed(r.p50),
        fixed(r.p99),
        fixed(r.max),
        String(r.errors),
        `${fixed(ratio * 100, 1)}%`,
        (() => {
          const f = floor.find((x) => x.concurrency === r.concurrency);
          return f
            ? `${fixed(r.requestsPerSecond / f.requestsPerSecond * 100, 1)}%`
            : "-";
        })(),
        fixed(serverCpuUs, 0),
        fixed(r.clientCpuUs, 0),
        mib(peakRssKiB),
      ]).concat(floor.map((r) => [
        "floor",
        String(r.concurrency),
        thousands(r.requestsPerSecond),
        fixed(r.p50),
        fixed(r.p99),
        fixed(r.max),
        String(r.errors),
        `${fixed(r.requestsPerSecond / inProcess.encrypt * 100, 1)}%`,
        "100.0%",
        fixed(r.serverCpuUs, 0),
        fixed(r.clientCpuUs, 0),
        "-",
      ])),
    ),
  );
  console.log(
    `In-process: encrypt ${thousands(inProcess.encrypt)} ops/s, ` +
      `generateDataKey ${thousands(inProcess.generateDataKey)} ops/s. ` +
      `Server peak RSS over the whole run: ${mib(sampler?.peak ?? NaN)}.`,
  );
  console.log(
    `Server exit: code ${serverStatus?.code ?? "?"}${
      serverStatus?.signal ? ` (signal ${serverStatus.signal})` : ""
    }` + (server?.log.length ? `; stderr: ${server.log.join(" | ")}` : ""),
  );

  console.log("\n== Targets ==");
  const verdict = (ok: boolean) => ok ? "PASS" : "MISS";
  const target = (ok: boolean, text: string) => {
    console.log(`${verdict(ok)}  ${text}`);
  };
  const encryptRows = rows.filter((r) => r.result.operation === "Encrypt");
  if (encryptRows.length > 0) {
    const best = encryptRows.reduce((a, b) =>
      b.result.requestsPerSecond > a.result.requestsPerSecond ? b : a
    );
    const c = best.result.concurrency;
    target(
      best.ratio >= TARGET_RATIO,
      `Encrypt over HTTP ≥ ${TARGET_RATIO * 100}% of in-process at the best ` +
        `concurrency (c=${c}): ${thousands(best.result.requestsPerSecond)} / ${
          thousands(inProcess.encrypt)
        } = ${fixed(best.ratio * 100, 1)}%`,
    );
    target(
      best.result.p99 < TARGET_P99_MS,
      `Encrypt p99 < ${TARGET_P99_MS} ms at c=${c}: ${
        fixed(best.result.p99)
      } ms`,
    );
  }
  const allErrors = rows.reduce((n, r) => n + r.result.errors, 0) +
    (long?.result.errors ?? 0);
  target(allErrors === 0, `0 errors over every level: ${allErrors}`);
  if (long !== undefined) {
    target(
      long.flat,
      `Server RSS flat across ${
        thousands(long.result.requests)
      } Encrypt requests (c=${long.concurrency}): last-third mean ${
        mib(long.lastMean)
      } vs middle-third ${mib(long.middleMean)} (${
        fixed((long.lastMean / long.middleMean - 1) * 100, 1)
      }%, tolerance ±${FLAT_TOLERANCE * 100}%); slope ${
        fixed(long.slopeKiBPer10k, 0)
      } KiB per 10k requests`,
    );
  }
  if (cpuProfDir) {
    console.log(`\nServer CPU profile written to ${cpuProfDir}`);
  }
  console.log(`\nTotal time ${fixed((performance.now() - t0) / 1000, 1)} s.`);
  // Misses of the performance targets are reported, not failed on (they
  // depend on the machine); a request that failed is a bug.
  return allErrors === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());

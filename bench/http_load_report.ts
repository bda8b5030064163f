/**
 * The report of `bench/http_load.ts`: a Markdown results table that can go
 * into the README, the targets with MET or MISS, and a legend that
 * says what each column and target means.
 * @module
 */
import type { LoadResult } from "./http_load_client.ts";
import type { InProcessCost, Operation } from "./http_load_ops.ts";

/** The label of the bare `Deno.serve` floor's rows. */
export const FLOOR = "bare `Deno.serve`";

/** One measured level. */
export interface Row {
  operation: Operation | typeof FLOOR;
  connections: number;
  result: LoadResult;
  /** Server CPU time (all threads) per answered request, µs. */
  cpuUs: number;
  /** Server main-thread on-CPU time per answered request, µs. */
  mainThreadUs: number;
}

/** The long Encrypt phase: RSS after each segment. */
export interface LongPhase {
  connections: number;
  /** The requests it was to answer at least. */
  goal: number;
  /** [requests answered so far, server RSS KiB], from before the first segment. */
  checkpoints: [number, number][];
  errors: number;
}

/** Everything the report shows. */
export interface Report {
  /** CPU model, cores, Deno, date, placement, client, level timing. */
  machine: string;
  inProcess: Map<Operation, InProcessCost>;
  rows: Row[];
  long?: LongPhase;
}

/** Targets of issue 9. */
const MAX_OVERHEAD_US = 60;
const MAX_P99_MS = 10;
const P99_CONNECTIONS = 64;
const RSS_TOLERANCE = 0.05;

/** `n` rounded, with thousands separators; "-" when not a number. */
export const int = (n: number): string =>
  Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-";
/** `n` with `digits` decimals; "-" when not a number. */
export const dec = (n: number, digits = 2): string =>
  Number.isFinite(n) ? n.toFixed(digits) : "-";
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
const verdict = (met: boolean) => met ? "MET " : "MISS";
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * A Markdown table, its columns padded to their widest cell.
 *
 * @example
 * ```ts
 * markdownTable(["Nodes", "req/s"], [["1", "6,052"]]);
 * ```
 */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i].length))
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
  ].join("\n");
}

function overheadOf(report: Report, row: Row): number {
  const inProcess = report.inProcess.get(row.operation as Operation);
  return inProcess === undefined ? NaN : row.cpuUs - inProcess.cpuUs;
}

function resultsTable(report: Report): string {
  return markdownTable(
    [
      "Operation",
      "Connections",
      "req/s",
      "p50 ms",
      "p99 ms",
      "Errors",
      "Server CPU µs/req",
      "main thread",
      "In-process µs",
      "HTTP overhead µs",
    ],
    report.rows.map((row) => [
      row.operation,
      String(row.connections),
      int(row.result.requestsPerSecond),
      dec(row.result.p50),
      dec(row.result.p99),
      String(row.result.errors),
      dec(row.cpuUs, 0),
      dec(row.mainThreadUs, 0),
      dec(report.inProcess.get(row.operation as Operation)?.cpuUs ?? NaN, 1),
      dec(overheadOf(report, row), 0),
    ]),
  );
}

function targets(report: Report): string[] {
  const lines: string[] = [];
  const encrypt = report.rows.filter((r) => r.operation === "Encrypt");
  if (encrypt.length > 0) {
    const overheads = encrypt.map((r) => overheadOf(report, r));
    lines.push(
      `${verdict(Math.max(...overheads) <= MAX_OVERHEAD_US)}  HTTP overhead ` +
        `≤ ${MAX_OVERHEAD_US} µs per signed Encrypt at every level: ` +
        encrypt.map((r, i) =>
          `${r.connections} conn. ${dec(overheads[i], 0)} µs`
        ).join(", "),
    );
  }
  const at64 = report.rows.filter((r) =>
    r.operation !== FLOOR && r.connections === P99_CONNECTIONS
  );
  if (at64.length > 0) {
    const worst = at64.reduce((a, b) => b.result.p99 > a.result.p99 ? b : a);
    const errors = at64.reduce((n, r) => n + r.result.errors, 0);
    lines.push(
      `${verdict(worst.result.p99 < MAX_P99_MS && errors === 0)}  p99 < ` +
        `${MAX_P99_MS} ms at ${P99_CONNECTIONS} connections, 0 errors: ` +
        `worst p99 ${dec(worst.result.p99)} ms (${worst.operation}), ` +
        `${errors} errors`,
    );
  }
  const long = report.long;
  if (long !== undefined) {
    const rss = long.checkpoints.slice(1).map(([, kib]) => kib);
    const third = Math.floor(rss.length / 3);
    const middle = mean(rss.slice(third, 2 * third));
    const last = mean(rss.slice(2 * third));
    const answered = long.checkpoints.at(-1)![0];
    const flat = answered >= long.goal && third > 0 &&
      Math.abs(last / middle - 1) <= RSS_TOLERANCE;
    lines.push(
      `${verdict(flat)}  Server RSS flat over ${int(long.goal)} requests: ` +
        `${int(answered)} Encrypt at ${long.connections} connections, ` +
        `last third ${mib(last)} vs middle third ${mib(middle)} ` +
        `(${dec((last / middle - 1) * 100, 1)}%), ${long.errors} errors; ` +
        `RSS ${
          long.checkpoints.map(([, kib]) => dec(kib / 1024, 0)).join(", ")
        } MiB`,
    );
  }
  return lines;
}

const LEGEND = [
  "req/s: requests answered per second in the measured phase (after the warm-up).",
  "p50, p99: latency as the load client measured it, from sending a request to its whole answer.",
  "Errors: non-2xx answers and socket errors (connect, read, write, timeout).",
  "Server CPU µs/req: utime + stime of the server process, all its threads, from /proc/<pid>/stat " +
  "over the measured phase, divided by the requests answered (clock-tick resolution; a level " +
  "takes seconds of CPU, so a tick is well under 1%).",
  "main thread: the main thread's share, from /proc/<pid>/schedstat (ns); the rest is helper " +
  "threads (V8's garbage collector and compiler, the blocking pool writing the audit log).",
  "In-process µs: CPU µs per call of the same operation through the library (mod.ts) in a tight " +
  "loop in the benchmark's own process, on its own token, in this run.",
  "HTTP overhead µs: server CPU µs/req minus in-process µs: what HTTP, Hono, JSON, SigV4 and the " +
  "audit log add per request.",
  `${FLOOR}: a server answering a fixed body (bench/http_floor_server.ts), driven like the ` +
  "Encrypt rows: the least a Deno HTTP server costs here.",
  `Target "HTTP overhead": the issue's ≤ ${MAX_OVERHEAD_US} µs, with audit log and SigV4 on, ` +
  "at every Encrypt level.",
  `Target "p99": under ${MAX_P99_MS} ms for every operation at ${P99_CONNECTIONS} connections ` +
  "with the server on one CPU, and no errors there.",
  'Target "RSS flat": the long phase runs Encrypt in segments sized to about a tenth of its ' +
  "requests, reading the server's RSS after each; flat when the mean of the last third of " +
  `the readings is within ±${RSS_TOLERANCE * 100}% of the middle third's.`,
];

/**
 * The whole report as Markdown.
 *
 * @example
 * ```ts
 * console.log(formatReport({ machine, inProcess, rows, long }));
 * ```
 */
export function formatReport(report: Report): string {
  const inProcess = [...report.inProcess].map(([op, cost]) =>
    `${op} ${dec(cost.cpuUs, 1)} µs (wall ${dec(cost.wallUs, 1)})`
  ).join(", ");
  const encrypt64 = report.rows.find((r) =>
    r.operation === "Encrypt" && r.connections === P99_CONNECTIONS
  );
  const floor64 = report.rows.find((r) =>
    r.operation === FLOOR && r.connections === P99_CONNECTIONS
  );
  const split = encrypt64 && floor64
    ? [
      "",
      `Of the HTTP overhead of Encrypt at ${P99_CONNECTIONS} connections ` +
      `(${dec(overheadOf(report, encrypt64), 0)} µs), the bare Deno.serve ` +
      `floor is ${dec(floor64.cpuUs, 0)} µs; the other ` +
      `${
        dec(overheadOf(report, encrypt64) - floor64.cpuUs, 0)
      } µs are okms's ` +
      "HTTP layer.",
    ]
    : [];
  return [
    "### Over HTTP: `npx -y deno@2.9.6 task bench:http`",
    "",
    report.machine,
    "",
    resultsTable(report),
    "",
    `In-process in the same run, CPU per call: ${inProcess}.`,
    ...split,
    "",
    "Targets (issue 9):",
    "",
    ...targets(report).map((t) => `- ${t}`),
    "",
    "Legend:",
    "",
    ...LEGEND.map((l) => `- ${l}`),
  ].join("\n");
}

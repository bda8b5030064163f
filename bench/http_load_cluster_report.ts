/**
 * The report of the cluster benchmark (`bench/http_load.ts --nodes …`): a
 * Markdown table with a row per operation, level and node count, how each
 * larger cluster compares with the smallest at the same level, and a
 * legend.
 * @module
 */
import type { LoadResult } from "./http_load_client.ts";
import { type Operation, OPERATIONS } from "./http_load_ops.ts";
import { dec, int, markdownTable } from "./http_load_report.ts";

/** One measured level of one cluster size. */
export interface ClusterRow {
  nodes: number;
  operation: Operation;
  connections: number;
  result: LoadResult;
  /** CPU time of each node per request the cluster answered, µs. */
  nodeCpuUs: number[];
  /** CPU time of PostgreSQL per request the cluster answered, µs. */
  databaseCpuUs: number;
  /** Statements PostgreSQL ran over the measured run. */
  databaseStatements: number;
}

/** Everything the report shows. */
export interface ClusterReport {
  /** CPU model, cores, Deno, date, placement, client, level timing. */
  machine: string;
  rows: ClusterRow[];
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function order(a: ClusterRow, b: ClusterRow): number {
  return OPERATIONS.indexOf(a.operation) - OPERATIONS.indexOf(b.operation) ||
    a.connections - b.connections || a.nodes - b.nodes;
}

/** Each node's share of the nodes' CPU time, e.g. `52% / 48%`. */
function split(row: ClusterRow): string {
  const total = sum(row.nodeCpuUs);
  return row.nodeCpuUs.map((us) => `${dec(us / total * 100, 0)}%`)
    .join(" / ");
}

function table(rows: ClusterRow[]): string {
  return markdownTable(
    [
      "Operation",
      "Connections",
      "Nodes",
      "req/s",
      "p50 ms",
      "p99 ms",
      "Errors",
      "Server CPU µs/req",
      "CPU split over nodes",
      "PostgreSQL CPU µs/req",
      "PostgreSQL CPU ms/s",
      "PostgreSQL statements per 1k req",
    ],
    rows.map((row) => [
      row.operation,
      String(row.connections),
      String(row.nodes),
      int(row.result.requestsPerSecond),
      dec(row.result.p50),
      dec(row.result.p99),
      String(row.result.errors),
      dec(sum(row.nodeCpuUs), 0),
      split(row),
      dec(row.databaseCpuUs, 1),
      dec(row.databaseCpuUs * row.result.requestsPerSecond / 1000, 1),
      dec(row.databaseStatements / row.result.requests * 1000, 2),
    ]),
  );
}

/** Each larger cluster against the smallest one at the same level. */
function scaling(rows: ClusterRow[]): string[] {
  const lines: string[] = [];
  for (const row of rows) {
    const base = rows.find((r) =>
      r.operation === row.operation && r.connections === row.connections
    )!;
    if (base === row) continue;
    const ratio = (f: (r: ClusterRow) => number) => dec(f(row) / f(base));
    lines.push(
      `${row.operation}, ${row.connections} connections: ${row.nodes} ` +
        `nodes answer ${ratio((r) => r.result.requestsPerSecond)}× the ` +
        `requests per second of ${base.nodes}, at ` +
        `${ratio((r) => sum(r.nodeCpuUs))}× the server CPU per request ` +
        `(p99 ${ratio((r) => r.result.p99)}×).`,
    );
  }
  return lines;
}

const LEGEND = [
  "Nodes: okms server processes (server/main.ts --database-url --reuse-port) on one PostgreSQL, " +
  "one shared data directory (one SoftHSM2 token) and one port: the kernel (SO_REUSEPORT) gives " +
  "each new connection to a node by a hash of its addresses, so at 1 connection one node serves " +
  "everything, and at 16 or 64 the split varies by a few connections.",
  "req/s, p50, p99, Errors: as the load client measured them over the measured phase (after the " +
  "warm-up); errors are non-2xx answers and socket errors.",
  "Server CPU µs/req: utime + stime of every node process, all threads, from /proc/<pid>/stat over " +
  "the measured phase, summed over the nodes and divided by the requests answered.",
  "CPU split over nodes: each node's share of that CPU time: every node got traffic when none is " +
  "near 0%.",
  "PostgreSQL CPU: utime + stime (and reaped children's) of the postmaster and all its children " +
  "over the measured phase, per request answered and per second; in clock ticks (10 ms), so " +
  "0.0 means under a tick in the whole phase.",
  "PostgreSQL statements per 1k req: statements the database ran over the measured phase " +
  "(pg_stat_statements, utility statements such as BEGIN included) per 1,000 requests answered. A cached key's " +
  "Encrypt, Decrypt and GenerateDataKey make no database round trip; what is left is each " +
  "node's change-feed poll (every 250 ms), its check of the access-key table (at most once a " +
  "second, made by the first request after the second is up) and a reservation of 65,536 " +
  "encryptions per key version: a few statements a second that hardly grow with the requests.",
];

/**
 * The whole report as Markdown.
 *
 * @example
 * ```ts
 * console.log(formatClusterReport({ machine, rows }));
 * ```
 */
export function formatClusterReport(report: ClusterReport): string {
  const rows = report.rows.toSorted(order);
  const compared = scaling(rows);
  return [
    "### A cluster over HTTP: `npx -y deno@2.9.6 task bench:http --nodes 1,2`",
    "",
    report.machine,
    "",
    table(rows),
    ...(compared.length > 0 ? ["", ...compared.map((l) => `- ${l}`)] : []),
    "",
    "Legend:",
    "",
    ...LEGEND.map((l) => `- ${l}`),
  ].join("\n");
}

/**
 * The cluster mode of the HTTP benchmark (`bench/http_load.ts --nodes
 * 1,2`): okms nodes (`server/main.ts --database-url … --reuse-port`) on one
 * throwaway PostgreSQL (`bench/http_load_postgres.ts`), sharing one data
 * directory (one SoftHSM2 token) and one port. Node counts run in
 * ascending order, nodes added and never removed; at each, every
 * operation and level runs as in the single-server mode, with the CPU time
 * of every node and of PostgreSQL read around the measured run. Node `i`
 * runs as server `i` of `bench/pinning.ts`; PostgreSQL on the database CPU.
 * The nodes and the database are stopped at the end, on failure too, and
 * on SIGINT or SIGTERM.
 * @module
 */
import {
  type LoadClient,
  logRun,
  measureRun,
  type Timing,
} from "./http_load_client.ts";
import type { ClusterRow } from "./http_load_cluster_report.ts";
import type { Operation } from "./http_load_ops.ts";
import {
  type OkmsServer,
  requestsOf,
  startOkms,
  stopOkms,
} from "./http_load_okms.ts";
import {
  type BenchDatabase,
  startDatabase,
  type StatementCalls,
} from "./http_load_postgres.ts";

/** The statements of each level shown, most calls first. */
const TOP_STATEMENTS = 4;

/** What a cluster run measures. */
export interface ClusterOptions {
  /** Node counts, ascending, e.g. `[1, 2]`. */
  nodes: number[];
  operations: readonly Operation[];
  /** Connections of each level. */
  levels: number[];
  timing: Timing;
  /** The audit log every node appends to; a temporary file by default. */
  auditLog?: string;
}

/** What the nodes and PostgreSQL have done so far. */
interface Counters {
  /** CPU µs of PostgreSQL, then of each node. */
  cpuUs: number[];
  statements: StatementCalls;
}

function countersOf(database: BenchDatabase, nodes: OkmsServer[]) {
  return async (): Promise<Counters> => ({
    cpuUs: await Promise.all([
      database.cpuUs(),
      ...nodes.map(async (node) => (await node.server.usage()).cpuUs),
    ]),
    statements: await database.statements(),
  });
}

/** The statements run between two readings, most calls first. */
function statementsBetween(
  before: StatementCalls,
  after: StatementCalls,
): [string, number][] {
  return [...after]
    .map(([query, calls]): [string, number] => [
      query,
      calls - (before.get(query) ?? 0),
    ])
    .filter(([, calls]) => calls > 0)
    .sort((a, b) => b[1] - a[1]);
}

/** Every operation and level against `nodes`, which share one port. */
async function measureNodes(
  client: LoadClient,
  database: BenchDatabase,
  nodes: OkmsServer[],
  options: ClusterOptions,
): Promise<ClusterRow[]> {
  const requests = await requestsOf(nodes[0], options.operations);
  const read = countersOf(database, nodes);
  const rows: ClusterRow[] = [];
  for (const [operation, request] of requests) {
    for (const connections of options.levels) {
      const { result, before, after } = await measureRun(
        client,
        request,
        connections,
        options.timing,
        read,
      );
      const [databaseCpuUs, ...nodeCpuUs] = after.cpuUs.map((us, i) =>
        (us - before.cpuUs[i]) / result.requests
      );
      const statements = statementsBetween(before.statements, after.statements);
      const databaseStatements = statements.reduce((n, [, c]) => n + c, 0);
      rows.push({
        nodes: nodes.length,
        operation,
        connections,
        result,
        nodeCpuUs,
        databaseCpuUs,
        databaseStatements,
      });
      logRun(
        `${operation}, ${connections} conn., ${nodes.length} node(s)`,
        result,
        `nodes ${nodeCpuUs.map((us) => us.toFixed(0)).join(" + ")} µs ` +
          `CPU/req, PostgreSQL ${databaseCpuUs.toFixed(2)} µs/req and ` +
          `${databaseStatements} statements:`,
      );
      for (const [query, calls] of statements.slice(0, TOP_STATEMENTS)) {
        console.log(
          `    ${calls}× ${query.replace(/\s+/g, " ").slice(0, 100)}`,
        );
      }
    }
  }
  return rows;
}

/**
 * Starts PostgreSQL, then for each node count adds nodes up to it and
 * measures; stops everything at the end.
 *
 * @example
 * ```ts
 * const rows = await measureCluster(await wrkClient(), {
 *   nodes: [1, 2],
 *   operations: ["Encrypt"],
 *   levels: [64],
 *   timing: { warmup: 1, seconds: 10 },
 * });
 * ```
 */
export async function measureCluster(
  client: LoadClient,
  options: ClusterOptions,
): Promise<ClusterRow[]> {
  const database = await startDatabase();
  const dir = await Deno.makeTempDir({ prefix: "okms-http-cluster-" });
  const nodes: OkmsServer[] = [];
  const stop = async () => {
    for (const node of nodes.splice(0)) await stopOkms(node);
    await database.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const interrupted = async () => {
    console.log("\nInterrupted: stopping the nodes and PostgreSQL…");
    await stop();
    Deno.exit(130);
  };
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const signal of signals) Deno.addSignalListener(signal, interrupted);
  try {
    console.log(`\nPostgreSQL ${database.url.replace(/:[^:@]+@/, ":…@")}`);
    const rows: ClusterRow[] = [];
    for (const count of options.nodes) {
      while (nodes.length < count) {
        nodes.push(
          await startOkms({
            dataDir: `${dir}/data`,
            auditLog: options.auditLog ?? `${dir}/audit.log`,
            port: nodes.length === 0 ? 0 : Number(new URL(nodes[0].url).port),
            role: nodes.length,
            flags: ["--database-url", database.url, "--reuse-port"],
          }),
        );
      }
      console.log(
        `\n${count} okms node(s), pid ${
          nodes.map((n) => n.server.pid).join(", ")
        }, on ${nodes[0].url}`,
      );
      rows.push(...await measureNodes(client, database, nodes, options));
    }
    return rows;
  } finally {
    for (const signal of signals) {
      Deno.removeSignalListener(signal, interrupted);
    }
    await stop();
  }
}

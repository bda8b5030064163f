/**
 * The database of the cluster benchmark: a throwaway PostgreSQL cluster
 * from `tests/postgres_cluster.ts` (imported from tests/ rather than kept
 * twice; it needs Debian's postgresql, `deno task postgres`), its processes
 * pinned to the database CPU, their CPU time from `/proc`, and the
 * statements the server ran, from `pg_stat_statements` (which counts each
 * statement when it ends, so a reading is up to date).
 * @module
 */
// @ts-types="@types/pg"
import pg from "pg";
import { startPostgres } from "../tests/postgres_cluster.ts";
import { pin } from "./pinning.ts";
import { childrenOf, cpuTimeUs, readProc } from "./proc.ts";

/** Calls of each statement (normalized text) so far. */
export type StatementCalls = Map<string, number>;

/** A running throwaway PostgreSQL with one fresh database. */
export interface BenchDatabase extends AsyncDisposable {
  /** `postgres://…` of the fresh database. */
  readonly url: string;
  /**
   * CPU time so far, µs, of the postmaster and its children (backends,
   * writers, launchers), the children it has reaped included.
   */
  cpuUs(): Promise<number>;
  /** The statements run on the database so far, but for these readings. */
  statements(): Promise<StatementCalls>;
  /** Stops the server and removes its files. Idempotent. */
  stop(): Promise<void>;
}

const STATEMENTS = `SELECT query, calls FROM pg_stat_statements
  WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND query NOT LIKE '%pg_stat_statements%'`;

/**
 * Starts PostgreSQL with `pg_stat_statements`, creates the database
 * `okms_bench` and pins every process of the server to the database CPU
 * (backends forked later inherit it).
 *
 * @example
 * ```ts
 * await using database = await startDatabase();
 * const before = await database.cpuUs();
 * ```
 */
export async function startDatabase(): Promise<BenchDatabase> {
  const cluster = await startPostgres({
    settings: { shared_preload_libraries: "pg_stat_statements" },
  });
  let reader: pg.Client | undefined;
  const stop = async () => {
    await reader?.end().catch(() => {});
    reader = undefined;
    await cluster.stop();
  };
  try {
    const url = await cluster.createDatabase("okms_bench");
    const client = reader = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("CREATE EXTENSION pg_stat_statements");
    // pg_ctl runs the server on `<dir>/data`; its first line is the pid.
    const postmaster = Number(
      (await Deno.readTextFile(`${cluster.dir}/data/postmaster.pid`))
        .split("\n")[0],
    );
    await pin("database", [postmaster, ...await childrenOf(postmaster)]);
    return {
      url,
      async cpuUs() {
        const pids = [postmaster, ...await childrenOf(postmaster)];
        const stats = await readProc(pids.map((p) => `/proc/${p}/stat`), true);
        return await cpuTimeUs(stats, true);
      },
      async statements() {
        const { rows } = await client.query<{ query: string; calls: string }>(
          STATEMENTS,
        );
        const calls: StatementCalls = new Map();
        for (const { query, calls: n } of rows) {
          calls.set(query, (calls.get(query) ?? 0) + Number(n));
        }
        return calls;
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Where the HTTP benchmark's processes run. With two or more CPUs each
 * role has a CPU (`taskset`): okms server `i` (0 for the single server,
 * and for a cluster's first node) on CPU `i` modulo the CPUs, the load
 * client on CPU 1, PostgreSQL on CPU 0. So the single server never shares
 * its core with the client, and on two CPUs each of a cluster's two nodes
 * shares its core with one helper: the first with PostgreSQL (a few
 * milliseconds a second), the second with the client. PostgreSQL beside
 * the client and the second node was tried and is worse: its answers to
 * the nodes' change-feed polls come late, a node's caches lapse (they are
 * trusted for a bound after each poll) and requests wait on the database
 * (p99 0.15 to 0.6 s at 64 connections, against 16 to 70 ms). On one CPU
 * everything shares it.
 * @module
 */

/** Whether the roles get CPUs of their own. */
export const PINNED = navigator.hardwareConcurrency >= 2;

/** The load client, PostgreSQL, or okms server `i` (from 0). */
export type Role = "client" | "database" | number;

/** The CPU of each role that is not a server. */
const CPU = { client: 1, database: 0 } as const;

function cpuOf(role: Role): number {
  return typeof role === "number"
    ? role % navigator.hardwareConcurrency
    : CPU[role];
}

/**
 * `command` and `args`, run through `taskset -c <cpu>` when
 * {@linkcode PINNED}.
 *
 * @example
 * ```ts
 * const [command, args] = pinned("client", "wrk", ["-t1", "-c64", url]);
 * new Deno.Command(command, { args }).spawn();
 * ```
 */
export function pinned(
  role: Role,
  command: string,
  args: string[],
): [string, string[]] {
  return PINNED
    ? ["taskset", ["-c", String(cpuOf(role)), command, ...args]]
    : [command, args];
}

/**
 * Moves running processes, every thread, to the CPU of `role` when
 * {@linkcode PINNED}; the children they fork later inherit it. A process
 * that is gone meanwhile is skipped.
 *
 * @example
 * ```ts
 * await pin("database", [postmasterPid, ...await childrenOf(postmasterPid)]);
 * ```
 */
export async function pin(role: Role, pids: number[]): Promise<void> {
  if (!PINNED) return;
  for (const pid of pids) {
    await new Deno.Command("taskset", {
      args: ["-a", "-p", "-c", String(cpuOf(role)), String(pid)],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
  }
}

/**
 * How the processes were placed, for the report: the single server and
 * `client`, or with `nodes` a cluster's nodes, `client` and PostgreSQL.
 *
 * @example
 * ```ts
 * placement("wrk -t1"); // "server pinned to CPU 0, wrk -t1 to CPU 1 (taskset)"
 * ```
 */
export function placement(client: string, nodes?: number): string {
  if (!PINNED) {
    return nodes === undefined
      ? `server and ${client} share this machine's one CPU`
      : `okms nodes, ${client} and PostgreSQL share this machine's one CPU`;
  }
  if (nodes === undefined) {
    return `server pinned to CPU ${cpuOf(0)}, ${client} to CPU ${
      cpuOf("client")
    } (taskset)`;
  }
  const where = Array.from(
    { length: nodes },
    (_, i) => `node ${i + 1} on CPU ${cpuOf(i)}`,
  ).join(", ");
  return `okms ${where}; PostgreSQL (postmaster and backends) on CPU ${
    cpuOf("database")
  }, ${client} on CPU ${cpuOf("client")} (taskset)`;
}

/**
 * Where the HTTP benchmark's processes run: with two or more CPUs, the
 * server under test on CPU 0 and the load client on CPU 1 (`taskset`), so
 * that the client's work never lands on the server's core; on one CPU they
 * share it.
 * @module
 */

/** Whether server and client get a CPU each. */
export const PINNED = navigator.hardwareConcurrency >= 2;

/** The CPU of each role. */
const CPU = { server: 0, client: 1 } as const;

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
  role: keyof typeof CPU,
  command: string,
  args: string[],
): [string, string[]] {
  return PINNED
    ? ["taskset", ["-c", String(CPU[role]), command, ...args]]
    : [command, args];
}

/** How the processes were placed, for the report. */
export function placement(client: string): string {
  return PINNED
    ? `server pinned to CPU ${CPU.server}, ${client} to CPU ${CPU.client} (taskset)`
    : `server and ${client} share this machine's one CPU`;
}

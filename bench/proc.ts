/**
 * What the HTTP benchmark reads of `/proc`: files of running processes,
 * their CPU time and their children. Deno lets a script read `/proc` only
 * with `--allow-all`, so `cat` reads it.
 *
 * CPU time is `utime + stime` of `/proc/<pid>/stat`: it covers every thread
 * of the process, the exited ones too (the kernel adds a thread's time to
 * its process when it exits), in clock ticks (`getconf CLK_TCK`, usually
 * 100 a second). `cutime + cstime` is the time of the children the process
 * has waited for: a PostgreSQL backend that exits moves its time there.
 * @module
 */

/** Clock ticks per second of `/proc/<pid>/stat`, read once. */
let ticksPerSecond: number | undefined;

async function output(
  command: string,
  args: string[],
  failureOk = false,
): Promise<string> {
  const { success, stdout } = await new Deno.Command(command, {
    args,
    stdin: "null",
    stderr: "null",
  }).output();
  if (!success && !failureOk) {
    throw new Error(`${command} ${args.join(" ")} failed`);
  }
  return new TextDecoder().decode(stdout);
}

/**
 * The text of `paths`, one after the other. With `missingOk`, a file that
 * is gone (its process exited meanwhile) adds nothing instead of failing.
 *
 * @example
 * ```ts
 * const [stat] = (await readProc([`/proc/${pid}/stat`])).split("\n");
 * ```
 */
export function readProc(paths: string[], missingOk = false): Promise<string> {
  return output("cat", paths, missingOk);
}

/**
 * The CPU time of the `/proc/<pid>/stat` lines in `stats`, summed, µs:
 * `utime + stime`, and with `reaped` also `cutime + cstime`.
 *
 * @example
 * ```ts
 * const cpuUs = await cpuTimeUs(await readProc([`/proc/${pid}/stat`]));
 * ```
 */
export async function cpuTimeUs(
  stats: string,
  reaped = false,
): Promise<number> {
  ticksPerSecond ??= Number(await output("getconf", ["CLK_TCK"]));
  let ticks = 0;
  for (const stat of stats.split("\n").filter((line) => line !== "")) {
    // Fields after "(comm)": state is field 3, utime 14, stime 15,
    // cutime 16, cstime 17.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
    if (reaped) ticks += Number(fields[13]) + Number(fields[14]);
  }
  return ticks * 1e6 / ticksPerSecond;
}

/**
 * The children of process `pid` (those its main thread forked).
 *
 * @example
 * ```ts
 * const backends = await childrenOf(postmasterPid);
 * ```
 */
export async function childrenOf(pid: number): Promise<number[]> {
  return (await readProc([`/proc/${pid}/task/${pid}/children`]))
    .split(/\s+/).filter((word) => word !== "").map(Number);
}

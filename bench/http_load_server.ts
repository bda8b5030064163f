/**
 * A server under measurement: a child process pinned to its CPU, its
 * stderr drained (the last lines kept for the report), its CPU time and
 * memory read from `/proc` (`bench/proc.ts`), stopped with SIGTERM (SIGKILL
 * after a deadline).
 *
 * CPU time is `utime + stime` of `/proc/<pid>/stat`, every thread, in clock
 * ticks. `/proc/<pid>/schedstat` counts nanoseconds, but of the main thread
 * only, and a Deno server also works on helper threads: V8's
 * garbage-collector and compiler threads, and the blocking pool that runs
 * file writes such as the audit log's. So `stat` is the measure, taken over
 * enough requests that a tick is small beside it; `schedstat` is read
 * beside it to show the main thread's share.
 * @module
 */
import { pinned, type Role } from "./pinning.ts";
import { cpuTimeUs, readProc } from "./proc.ts";

/** How long a server may take to start, and to stop after SIGTERM. */
const START_MS = 60_000;
const STOP_MS = 15_000;
/** stderr lines kept after the banner. */
const LOG_LINES = 20;

/** A reading of the server's counters. */
export interface Usage {
  /** CPU time of all its threads so far, µs (tick resolution). */
  cpuUs: number;
  /** On-CPU time of its main thread so far, µs. */
  mainThreadUs: number;
  /** Resident memory, KiB. */
  rssKiB: number;
}

function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch { /* already gone */ }
}

/** Lines of a byte stream. */
async function* linesOf(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + text).split("\n");
    rest = lines.pop()!;
    yield* lines;
  }
  if (rest !== "") yield rest;
}

/** A running server process. */
export class ServerProcess {
  /** Its process id (taskset execs it, so this is the server itself). */
  readonly pid: number;
  /** Its stderr up to the moment it was ready. */
  readonly banner: string;
  /** Its last stderr lines after the banner. */
  readonly log: string[] = [];
  readonly #child: Deno.ChildProcess;

  private constructor(child: Deno.ChildProcess, banner: string) {
    this.#child = child;
    this.pid = child.pid;
    this.banner = banner;
  }

  /**
   * Spawns `args` of this Deno on the CPU of `role` (by default the first
   * server's) and waits until `ready` holds of its stderr so far.
   *
   * @throws {Error} with its stderr when it exits, or takes over a minute.
   * @example
   * ```ts
   * const floor = await ServerProcess.start(["run", "--allow-net=127.0.0.1", "bench/http_floor_server.ts"], (s) => s.includes("listening on"));
   * ```
   */
  static async start(
    args: string[],
    ready: (stderr: string) => boolean,
    role: Role = 0,
  ): Promise<ServerProcess> {
    const [command, pinnedArgs] = pinned(role, Deno.execPath(), args);
    const child = new Deno.Command(command, {
      args: pinnedArgs,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => kill(child, "SIGKILL"), START_MS);
    const lines = linesOf(child.stderr);
    let banner = "";
    try {
      while (!ready(banner)) {
        const { value, done } = await lines.next();
        if (done) throw new Error(`the server did not start:\n${banner}`);
        banner += `${value}\n`;
      }
    } catch (error) {
      await child.status;
      throw error;
    } finally {
      clearTimeout(timer);
    }
    const server = new ServerProcess(child, banner);
    (async () => {
      for await (const line of { [Symbol.asyncIterator]: () => lines }) {
        server.log.push(line);
        if (server.log.length > LOG_LINES) server.log.shift();
      }
    })().catch(() => {/* the stream broke: the server is gone */});
    return server;
  }

  /** Its counters now. */
  async usage(): Promise<Usage> {
    const proc = `/proc/${this.pid}`;
    const [stat, schedstat, ...status] = (await readProc([
      `${proc}/stat`,
      `${proc}/schedstat`,
      `${proc}/status`,
    ])).split("\n");
    const rss = status.find((l) => l.startsWith("VmRSS:")) ?? "";
    return {
      cpuUs: await cpuTimeUs(stat),
      mainThreadUs: Number(schedstat.split(" ")[0]) / 1000,
      rssKiB: Number(rss.replace(/\D/g, "")),
    };
  }

  /** SIGTERM, then waits for it to exit (SIGKILL after 15 s). */
  async stop(): Promise<Deno.CommandStatus> {
    const timer = setTimeout(() => kill(this.#child, "SIGKILL"), STOP_MS);
    kill(this.#child, "SIGTERM");
    try {
      return await this.#child.status;
    } finally {
      clearTimeout(timer);
    }
  }
}

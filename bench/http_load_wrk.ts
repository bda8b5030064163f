/**
 * The default load client of `bench/http_load.ts`: Debian's `wrk` (one
 * thread, pinned to the client CPU) sending one request signed just
 * before the run, again and again, through `bench/http_load_wrk.lua`. okms
 * accepts a signed request again within its clock-skew window, as AWS
 * does, so the client spends no CPU on signing and little on HTTP.
 * @module
 */
import { findOnPath, findOrInstall } from "../ffi/debian_package.ts";
import type { LoadClient, LoadResult, LoadSpec } from "./http_load_client.ts";
import { KmsSigner } from "./http_load_signer.ts";
import { pinned } from "./pinning.ts";

const SCRIPT = new URL("./http_load_wrk.lua", import.meta.url).pathname;

/** What `bench/http_load_wrk.lua` prints. */
interface WrkSummary {
  requests: number;
  seconds: number;
  non2xx: number;
  socketErrors: number;
  p50: number;
  p99: number;
  max: number;
  sample: string | null;
}

/** The request file the Lua script reads: headers, an empty line, the body. */
function requestFile(spec: LoadSpec): string {
  const host = new URL(spec.url).host;
  const headers = new KmsSigner({ ...spec, host }).sign(
    spec.target,
    new TextEncoder().encode(spec.body),
  );
  // "Host" as wrk spells it, so that this value replaces wrk's own.
  return Object.entries({ Host: host, ...headers })
    .map(([name, value]) => `${name}: ${value}\n`).join("") +
    `\n${spec.body}`;
}

async function runWrk(wrk: string, spec: LoadSpec): Promise<LoadResult> {
  const file = await Deno.makeTempFile({ prefix: "okms-wrk-" });
  try {
    await Deno.writeTextFile(file, requestFile(spec));
    const [command, args] = pinned("client", wrk, [
      "-t1",
      `-c${spec.connections}`,
      `-d${spec.seconds}s`,
      "-s",
      SCRIPT,
      `${new URL(spec.url).origin}/`,
      "--",
      file,
    ]);
    const { success, stdout, stderr } = await new Deno.Command(command, {
      args,
      stdin: "null",
    }).output();
    const out = new TextDecoder().decode(stdout);
    const line = out.split("\n").findLast((l) => l.startsWith("{"));
    if (!success || line === undefined) {
      throw new Error(
        `wrk failed: ${out}${new TextDecoder().decode(stderr)}`.trim(),
      );
    }
    const s = JSON.parse(line) as WrkSummary;
    return {
      requests: s.requests,
      errors: s.non2xx + s.socketErrors,
      seconds: s.seconds,
      requestsPerSecond: s.requests / s.seconds,
      p50: s.p50,
      p99: s.p99,
      max: s.max,
      errorSamples: [
        ...(s.sample === null ? [] : [s.sample]),
        ...(s.socketErrors > 0 ? [`${s.socketErrors} socket errors`] : []),
      ],
    };
  } finally {
    await Deno.remove(file);
  }
}

/**
 * The wrk client: finds `wrk` on the PATH, else installs Debian's `wrk`
 * when running as root.
 *
 * @throws {MissingPackageError} when wrk is missing and cannot be installed.
 * @example
 * ```ts
 * const client = await wrkClient();
 * const result = await client({ url, target, body, accessKeyId, secretAccessKey, region, connections: 64, seconds: 5 });
 * ```
 */
export async function wrkClient(): Promise<LoadClient> {
  const wrk = await findOrInstall({
    name: "wrk",
    what: "wrk (the HTTP load generator)",
    find: () => findOnPath("wrk"),
    otherwise: "or run with --client deno",
  });
  return (spec) => runWrk(wrk, spec);
}

/**
 * The server and admin programs run as child processes, as a user runs
 * them: `server/main.ts` until its banner is out, `server/admin.ts` to the
 * end.
 * @module
 */

/**
 * The permissions the `serve` and `admin` tasks give but network access,
 * which both also have (for clients, and for a cluster's database).
 */
export const PERMISSIONS = [
  "--allow-ffi",
  "--allow-env",
  "--allow-read",
  "--allow-write",
];

/**
 * The access key the first start wrote to `file` (an AWS credentials file,
 * `<data-dir>/credentials`).
 *
 * @example
 * ```ts
 * const credentials = await firstCredentials(`${dataDir}/credentials`);
 * ```
 */
export async function firstCredentials(
  file: string,
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const ini = await Deno.readTextFile(file);
  const value = (name: string) =>
    new RegExp(`^${name} = (\\S+)$`, "m").exec(ini)![1];
  return {
    accessKeyId: value("aws_access_key_id"),
    secretAccessKey: value("aws_secret_access_key"),
  };
}

/**
 * The environment changes for a process given `args`: a cluster node
 * (`--database-url`) always keeps wrapped material, whatever mode the suite
 * runs the single-node tests in (`OKMS_KEY_MATERIAL`).
 */
function clusterEnv(args: string[]): Record<string, string> | undefined {
  return args.includes("--database-url")
    ? { OKMS_KEY_MATERIAL: "" }
    : undefined;
}

/** A running server process. */
export interface Server {
  child: Deno.ChildProcess;
  url: string;
  banner: string;
  /** Sends `signal`; resolves with the exit code and the rest of stderr. */
  stop(signal: Deno.Signal): Promise<{ code: number; stderr: string }>;
}

/** Starts `server/main.ts` with `args`; resolves once its banner is out. */
export async function startMain(args: string[]): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, "--allow-net", "server/main.ts", ...args],
    env: clusterEnv(args),
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).values();
  let banner = "";
  while (!banner.includes("\nStop: ")) {
    const { value, done } = await lines.next();
    if (done) throw new Error(`the server did not start:\n${banner}`);
    banner += value;
  }
  const url = /okms listening on (\S+)/.exec(banner)![1];
  return {
    child,
    url,
    banner,
    async stop(signal) {
      child.kill(signal);
      let stderr = "";
      for await (const chunk of { [Symbol.asyncIterator]: () => lines }) {
        stderr += chunk;
      }
      return { code: (await child.status).code, stderr };
    },
  };
}

/**
 * Runs `server/admin.ts` with `args` to the end; `wrapper` is a command
 * line to run it under (e.g. `setpriv` with fewer capabilities).
 */
export async function admin(
  args: string[],
  wrapper: string[] = [],
): Promise<{ code: number; json?: unknown; stderr: string }> {
  const command = [
    ...wrapper,
    Deno.execPath(),
    "run",
    ...PERMISSIONS,
    "--allow-net",
    "server/admin.ts",
    ...args,
  ];
  const out = await new Deno.Command(command[0], {
    args: command.slice(1),
    env: clusterEnv(args),
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  return {
    code: out.code,
    json: out.code === 0 ? JSON.parse(stdout) : undefined,
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/**
 * A self-signed P-256 certificate for 127.0.0.1 and its key, made by
 * `openssl` as `<dir>/<name>-cert.pem` and `<dir>/<name>-key.pem`.
 */
export async function selfSignedCertificate(
  dir: string,
  name: string,
): Promise<{ cert: string; key: string }> {
  const cert = `${dir}/${name}-cert.pem`;
  const key = `${dir}/${name}-key.pem`;
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    stderr: "null",
  }).output();
  if (out.code !== 0) throw new Error("openssl could not make a certificate");
  return { cert, key };
}

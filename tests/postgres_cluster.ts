/**
 * A throwaway PostgreSQL cluster for tests: `initdb` into a temporary
 * directory, `pg_ctl` on a free loopback port (and a Unix socket in that
 * directory), password authentication, removed when stopped. Never the
 * system service. As root, the server runs as the `postgres` user (it
 * refuses root).
 *
 * @example
 * ```ts
 * await using pg = await startPostgres();
 * const url = await pg.createDatabase("node_test");
 * ```
 * @module
 */
// @ts-types="@types/pg"
import pg from "pg";
import { findPostgresBin } from "./postgres_bin.ts";

/** A running throwaway cluster. */
export interface PostgresCluster extends AsyncDisposable {
  /** `postgres://okms:…@127.0.0.1:port/postgres` (a superuser). */
  readonly url: string;
  readonly port: number;
  /** The directory holding the data, the log and the Unix socket. */
  readonly dir: string;
  /** A new database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** `pg_ctl restart -m fast`: every connection is cut, the data stays. */
  restart(): Promise<void>;
  /** Stops the server, keeping the data (for {@linkcode start}). */
  halt(): Promise<void>;
  /** Starts a halted server again on the same port. */
  start(): Promise<void>;
  /**
   * SIGSTOPs the server and its backends: connections stay open and
   * connects are accepted by the kernel, but nothing answers (a hung or
   * partitioned database).
   */
  freeze(): Promise<void>;
  /** SIGCONTs what {@linkcode freeze} stopped. */
  thaw(): Promise<void>;
  /** Stops the server and removes everything. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startPostgres}. */
export interface StartPostgresOptions {
  /** More `postgres -c` settings, e.g. `{ max_connections: "200" }`. */
  settings?: Record<string, string>;
}

const USER = "okms";

async function run(cmd: string, args: string[]): Promise<string> {
  const asRoot = Deno.uid() === 0;
  const command = asRoot
    ? new Deno.Command("runuser", {
      args: ["-u", "postgres", "--", cmd, ...args],
    })
    : new Deno.Command(cmd, { args });
  const { success, stdout, stderr } = await command.output();
  const out = new TextDecoder().decode(stdout);
  if (!success) {
    throw new Error(
      `${cmd.split("/").at(-1)} ${args.at(-1)} failed: ${
        new TextDecoder().decode(stderr).trim() || out.trim()
      }`,
    );
  }
  return out;
}

async function chownToPostgres(path: string): Promise<void> {
  if (Deno.uid() !== 0) return;
  const { success, stderr } = await new Deno.Command("chown", {
    args: ["-R", "postgres:postgres", path],
  }).output();
  if (!success) {
    throw new Error(
      `chown postgres ${path} failed (is there a postgres user?): ${
        new TextDecoder().decode(stderr).trim()
      }`,
    );
  }
}

/** A loopback port free at the time of asking. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Starts a fresh cluster (about a second). Needs PostgreSQL's server
 * programs (`deno task postgres` installs them), `--allow-run`,
 * `--allow-read`, `--allow-write`, `--allow-env`, `--allow-net` and
 * `--allow-sys`.
 */
export async function startPostgres(
  options: StartPostgresOptions = {},
): Promise<PostgresCluster> {
  const bin = findPostgresBin();
  if (bin === undefined) {
    throw new Error(
      "PostgreSQL's initdb and pg_ctl are not found: run `deno task postgres` (installs Debian's postgresql as root) or set OKMS_POSTGRES_BIN",
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "okms-pg-" });
  const data = `${dir}/data`;
  const password = crypto.getRandomValues(new Uint8Array(16)).toHex();
  await Deno.writeTextFile(`${dir}/pwfile`, password, { mode: 0o600 });
  await chownToPostgres(dir);
  try {
    await run(`${bin}/initdb`, [
      "--no-sync",
      "--no-instructions",
      "--encoding=UTF8",
      "--locale=C.UTF-8",
      `--username=${USER}`,
      `--pwfile=${dir}/pwfile`,
      "--auth=scram-sha-256",
      `--pgdata=${data}`,
    ]);
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  await Deno.remove(`${dir}/pwfile`);
  const settings: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: dir,
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
    ...options.settings,
  };
  let port = 0;
  const pgCtl = (...args: string[]) =>
    run(`${bin}/pg_ctl`, ["--pgdata", data, "--log", `${dir}/log`, ...args]);
  const startOn = (on: number) =>
    pgCtl(
      "--wait",
      "--timeout=30",
      "-o",
      [
        `-p ${on}`,
        ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`),
      ].join(" "),
      "start",
    );
  for (let attempt = 0;; attempt++) {
    port = freePort();
    try {
      await startOn(port);
      break;
    } catch (error) {
      if (attempt < 2) continue; // the port was taken meanwhile
      await Deno.remove(dir, { recursive: true });
      throw new Error(
        `${(error as Error).message}\n${await Deno.readTextFile(`${dir}/log`)
          .catch(() => "")}`,
      );
    }
  }
  const base = (database: string) =>
    `postgres://${USER}:${password}@127.0.0.1:${port}/${database}`;
  let stopped = false;
  let frozen: number[] = [];
  const cluster: PostgresCluster = {
    url: base("postgres"),
    port,
    dir,
    async createDatabase(name: string): Promise<string> {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
        throw new TypeError(`${name} is not a lower-case SQL identifier`);
      }
      const client = new pg.Client({ connectionString: cluster.url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return base(name);
    },
    async restart() {
      await pgCtl("--wait", "--timeout=30", "--mode=fast", "restart");
    },
    async halt() {
      await pgCtl("--wait", "--timeout=30", "--mode=fast", "stop");
    },
    async start() {
      await startOn(port);
    },
    async freeze() {
      frozen = await signalServer(data, "SIGSTOP");
    },
    async thaw() {
      await signalServer(data, "SIGCONT", frozen);
      frozen = [];
    },
    async stop() {
      await cluster.thaw();
      if (stopped) return;
      stopped = true;
      await pgCtl("--wait", "--timeout=30", "--mode=immediate", "stop")
        .catch(() => {}); // halted already
      await Deno.remove(dir, { recursive: true });
    },
    [Symbol.asyncDispose]() {
      return cluster.stop();
    },
  };
  return cluster;
}

/**
 * SIGSTOPs (or SIGCONTs) the postmaster of the cluster in `data` and its
 * children (each of which is a session leader of its own). The children
 * are read from /proc by `cat`: Deno itself may not read /proc without
 * --allow-all. Returns the processes signalled.
 */
async function signalServer(
  data: string,
  signal: "SIGSTOP" | "SIGCONT",
  pids?: number[],
): Promise<number[]> {
  if (pids === undefined) {
    const postmaster = Number(
      (await Deno.readTextFile(`${data}/postmaster.pid`)).split("\n")[0],
    );
    Deno.kill(postmaster, signal); // first, so that it forks no more
    const { stdout } = await new Deno.Command("cat", {
      args: [`/proc/${postmaster}/task/${postmaster}/children`],
    }).output();
    const children = new TextDecoder().decode(stdout).trim().split(/\s+/)
      .filter((pid) => pid !== "").map(Number);
    for (const pid of children) Deno.kill(pid, signal);
    return [postmaster, ...children];
  }
  for (const pid of pids) Deno.kill(pid, signal);
  return pids;
}

/** A schema name no other test uses, for a store of its own on a shared cluster. */
export function freshSchema(prefix = "t"): string {
  return `${prefix}_${crypto.getRandomValues(new Uint8Array(6)).toHex()}`;
}

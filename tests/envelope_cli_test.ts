/**
 * `server/envelope_cli.ts` as a user runs it, as child processes: a stream
 * larger than 64 MiB through pipes in bounded memory, sealed through a
 * running server and opened on its data directory beside it, then on the
 * data directory alone; exit codes and messages of failures and of bad
 * command lines; `--help`.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startServer } from "../server/mod.ts";
import { PERMISSIONS } from "./server_processes.ts";

const REGION = "eu-west-2";
const MIB = 1024 * 1024;
const decoder = new TextDecoder();

/** The CLI as a child, stdin and stdout piped, stderr kept. */
function spawnCli(args: string[], env: Record<string, string>) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...PERMISSIONS,
      "--allow-net",
      "server/envelope_cli.ts",
      ...args,
    ],
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Runs the CLI on `input` to the end. */
async function runCli(
  args: string[],
  env: Record<string, string>,
  input: Uint8Array = new Uint8Array(0),
): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
  const child = spawnCli(args, env);
  const writer = child.stdin.getWriter();
  await writer.write(input).catch(() => {}); // it may exit before reading
  await writer.close().catch(() => {});
  const out = await child.output();
  return {
    code: out.code,
    stdout: out.stdout,
    stderr: decoder.decode(out.stderr),
  };
}

/** `size` bytes of a repeatable pattern, 1 MiB at a time. */
function pattern(size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      const chunk = new Uint8Array(Math.min(MIB, size - sent));
      crypto.getRandomValues(chunk.subarray(0, 65536));
      chunk.fill(sent / MIB, 65536);
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
}

/** A pass-through that hashes what it sees. */
function hasher() {
  const hash = createHash("sha256");
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      hash.update(chunk);
      controller.enqueue(chunk);
    },
  });
  return { stream, digest: () => hash.digest("hex") };
}

/**
 * The child's peak RSS (`VmHWM`, bytes) as last read from `/proc` before
 * `done`. Read through `cat`: Deno reads
 * `/proc/<pid>` only with all permissions, which `deno task test` does not
 * give.
 */
async function peakRss(pid: number, done: Promise<unknown>): Promise<number> {
  let peak = 0;
  let running = true;
  done.finally(() => running = false);
  while (running) {
    const out = await new Deno.Command("cat", {
      args: [`/proc/${pid}/status`],
      stderr: "null",
    }).output().catch(() => undefined);
    const kb = /VmHWM:\s+(\d+) kB/.exec(decoder.decode(out?.stdout))?.[1];
    if (kb === undefined) break; // gone, or no /proc
    peak = Math.max(peak, Number(kb) * 1024);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return peak;
}

/**
 * Encrypts `size` bytes with `encryptArgs` and pipes the message into a
 * decrypt with `decryptArgs`; the hashes in and out and both peaks.
 */
async function roundTrip(
  size: number,
  encryptArgs: string[],
  decryptArgs: string[],
  env: Record<string, string>,
) {
  const encrypt = spawnCli(["encrypt", ...encryptArgs], env);
  const decrypt = spawnCli(["decrypt", ...decryptArgs], env);
  const input = hasher();
  const output = hasher();
  const fed = pattern(size).pipeThrough(input.stream).pipeTo(encrypt.stdin);
  const piped = encrypt.stdout.pipeTo(decrypt.stdin);
  const read = decrypt.stdout.pipeThrough(output.stream).pipeTo(
    new WritableStream(),
  );
  const errors = [encrypt, decrypt].map((c) => new Response(c.stderr).text());
  const peaks = Promise.all([
    peakRss(encrypt.pid, encrypt.status),
    peakRss(decrypt.pid, decrypt.status),
  ]);
  await Promise.all([fed, piped, read]);
  const codes = [(await encrypt.status).code, (await decrypt.status).code];
  return {
    codes,
    stderr: await Promise.all(errors),
    same: input.digest() === output.digest(),
    peaks: await peaks,
  };
}

Deno.test("the envelope CLI, as child processes", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-envelope-cli-" });
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    okms: { dataDir, region: REGION },
    clockSkewSeconds: 300,
    auditLog: `${dataDir}/audit.log`,
  }, () => {});
  const env = {
    AWS_SHARED_CREDENTIALS_FILE: `${dataDir}/credentials`,
    AWS_CONFIG_FILE: `${dataDir}/no-config`,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "",
    AWS_SECRET_ACCESS_KEY: "",
    AWS_PROFILE: "",
  };
  const remote = ["--endpoint-url", server.url];
  const local = ["--data-dir", dataDir];
  let stopped = false;
  try {
    const keyArn = (await server.okms.defaultKey()).arn;
    const sealed = ["--key-id", keyArn, "--context", "purpose=test"];

    await t.step("96 MiB through pipes: server, then beside it", async () => {
      const small = await roundTrip(MIB, [...remote, ...sealed], local, env);
      assert.deepEqual(small.codes, [0, 0], small.stderr.join("\n"));
      const big = await roundTrip(96 * MIB, [...remote, ...sealed], [
        ...local,
        "--context",
        "purpose=test",
      ], env);
      assert.deepEqual(big.codes, [0, 0], big.stderr.join("\n"));
      assert.ok(big.same, "what came out is what went in");
      assert.deepEqual(big.stderr, ["", ""]);
      for (const i of [0, 1]) {
        if (Deno.build.os !== "linux") break; // no /proc to read
        assert.ok(big.peaks[i] > 0, "the peak RSS is read from /proc");
        const growth = big.peaks[i] - small.peaks[i];
        assert.ok(
          growth < 64 * MIB,
          `peak RSS grew by ${(growth / MIB).toFixed(1)} MiB over a 1 MiB run`,
        );
      }
    });

    const message = await runCli(
      ["encrypt", ...remote, ...sealed, "--frame-length", "100", "--signed"],
      env,
      new TextEncoder().encode("attack at dawn"),
    );
    assert.equal(message.code, 0, message.stderr);

    await t.step("a context the message lacks: exit 1, named", async () => {
      const out = await runCli(
        ["decrypt", ...remote, "--context", "purpose=other"],
        env,
        message.stdout,
      );
      assert.equal(out.code, 1);
      assert.equal(out.stdout.byteLength, 0);
      assert.match(
        out.stderr,
        /^okms envelope: InvalidCiphertextException: .*"purpose".*discard it\)/,
      );
      assert.equal(out.stderr.trim().split("\n").length, 1);
    });

    await t.step("a key that is not allowed: exit 1", async () => {
      const other = keyArn.replace(/key\/.*/, `key/${crypto.randomUUID()}`);
      const out = await runCli(
        ["decrypt", ...remote, "--key-id", other],
        env,
        message.stdout,
      );
      assert.equal(out.code, 1);
      assert.match(out.stderr, /IncorrectKeyException/);
    });

    await t.step("an unknown alias: exit 1 with the AWS name", async () => {
      const out = await runCli(
        ["encrypt", ...remote, "--key-id", "alias/none"],
        env,
      );
      assert.equal(out.code, 1);
      assert.match(out.stderr, /^okms envelope: NotFoundException: /);
    });

    await t.step(
      "context keys that name Object's members are keys like any other",
      async () => {
        const odd = ["--context", "constructor=x", "--context", "__proto__=y"];
        const sealedOdd = await runCli(
          ["encrypt", ...remote, "--key-id", keyArn, ...odd],
          env,
          new TextEncoder().encode("odd"),
        );
        assert.equal(sealedOdd.code, 0, sealedOdd.stderr);
        const opened = await runCli(
          ["decrypt", ...remote, ...odd],
          env,
          sealedOdd.stdout,
        );
        assert.equal(opened.code, 0, opened.stderr);
        assert.equal(decoder.decode(opened.stdout), "odd");
      },
    );

    await t.step("--help, and bad command lines: exit 2", async () => {
      const help = await runCli(["--help"], env);
      assert.equal(help.code, 0);
      assert.match(decoder.decode(help.stdout), /Exit codes: 0 done; 1 failed/);
      for (
        const args of [
          [],
          ["seal"],
          ["encrypt"],
          ["encrypt", "--key-id", keyArn, "--bogus"],
          ["encrypt", "--key-id", keyArn, "--context", "novalue"],
          ["encrypt", "--key-id", keyArn, "--frame-length", "0"],
          ["encrypt", "--key-id", keyArn, "--frame-length", "99999999999"],
          ["decrypt", "--signed"],
          ["decrypt", "extra"],
        ]
      ) {
        const out = await runCli(args, env);
        assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
        assert.match(out.stderr, /^okms envelope: .*\n\nokms envelope: seal/);
      }
    });

    await t.step("no data directory there: exit 1", async () => {
      const out = await runCli(
        ["decrypt", "--data-dir", `${dataDir}/nothing`],
        env,
        message.stdout,
      );
      assert.equal(out.code, 1);
      assert.match(out.stderr, /no okms data directory at/);
    });

    await server.shutdown();
    stopped = true;

    await t.step("the data directory alone, with no server", async () => {
      const out = await runCli(
        ["decrypt", ...local, "--context", "purpose=test"],
        env,
        message.stdout,
      );
      assert.equal(out.code, 0, out.stderr);
      assert.equal(decoder.decode(out.stdout), "attack at dawn");
      const trip = await roundTrip(5 * MIB, [...local, ...sealed], local, env);
      assert.deepEqual(trip.codes, [0, 0], trip.stderr.join("\n"));
      assert.ok(trip.same);
    });
  } finally {
    if (!stopped) await server.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
});

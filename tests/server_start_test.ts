/**
 * What an operator meets when starting okms: the banner of a later start,
 * TLS files that are swapped or do not match, settings given as flags, an
 * unreadable data directory, and `serve --help` on a fresh cache.
 */
import assert from "node:assert/strict";
import {
  admin,
  PERMISSIONS,
  selfSignedCertificate,
  startMain,
} from "./server_processes.ts";

/** Runs `server/main.ts` to the end (for starts that must fail). */
async function runMain(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, "--allow-net", "server/main.ts", ...args],
    stdout: "null",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("starting the server: banner, TLS files, settings, permissions", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "okms-server-start-" });
  const dataDir = `${dir}/data`;
  const common = ["--data-dir", dataDir, "--port", "0"];
  try {
    await t.step(
      "every start says where, which key, how to call and stop it",
      async () => {
        const first = await startMain([...common, "--audit-log", "-"]);
        const arn = /Default key of account \d{12}: (\S+)/.exec(first.banner)
          ?.[1];
        assert.match(arn ?? "", /^arn:aws:kms:eu-west-2:\d{12}:key\//);
        assert.match(first.banner, /Audit log: stdout/);
        assert.match(first.banner, /HSM: embedded SoftHSM2 token \(serial \w+/);
        assert.match(
          first.banner,
          /WARNING: the token's PIN is stored beside it \(\S+\/pin\): a copy of \S+ opens every key/,
        );
        await first.stop("SIGTERM");
        await Deno.remove(`${dataDir}/credentials`);

        const later = await startMain([
          ...common,
          "--audit-log",
          `${dir}/audit.log`,
        ]);
        try {
          const pid = later.child.pid;
          assert.match(later.banner, new RegExp(`process ${pid}\\)`));
          assert.match(later.banner, new RegExp(`kill -TERM ${pid}`));
          assert.ok(!later.banner.includes("First start"));
          assert.ok(later.banner.includes(`Default key of account`));
          assert.match(
            later.banner,
            new RegExp(
              `AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\\) aws kms encrypt --endpoint-url ${later.url} --region eu-west-2 --key-id ${arn}`,
            ),
          );
          assert.ok(later.banner.includes(`Audit log: ${dir}/audit.log`));
        } finally {
          assert.equal((await later.stop("SIGTERM")).code, 0);
        }
      },
    );

    await t.step(
      "a PIN kept outside the data directory: no warning",
      async () => {
        const elsewhere = `${dir}/secrets`;
        await Deno.mkdir(elsewhere, { mode: 0o700 });
        const args = [
          "--data-dir",
          `${dir}/data-with-outside-pin`,
          "--port",
          "0",
          "--pin-file",
          `${elsewhere}/okms-pin`,
        ];
        const server = await startMain(args);
        try {
          assert.doesNotMatch(server.banner, /WARNING/);
        } finally {
          assert.equal((await server.stop("SIGTERM")).code, 0);
        }
        assert.equal(
          (await Deno.stat(`${elsewhere}/okms-pin`)).mode! & 0o777,
          0o600,
        );
        await assert.rejects(
          Deno.stat(`${dir}/data-with-outside-pin/pin`),
          Deno.errors.NotFound,
        );
        // Without its PIN file, the directory is refused, not re-made.
        const without = await runMain(args.slice(0, 4));
        assert.equal(without.code, 1);
        assert.match(without.stderr, /--pin-file/);
      },
    );

    await t.step("TLS files: swapped, mismatched, not PEM", async () => {
      const a = await selfSignedCertificate(dir, "a");
      const b = await selfSignedCertificate(dir, "b");
      const tls = (cert: string, key: string) =>
        runMain([...common, "--tls-cert", cert, "--tls-key", key]);
      const swapped = await tls(a.key, a.cert);
      assert.equal(swapped.code, 1);
      assert.match(
        swapped.stderr,
        new RegExp(
          `--tls-cert ${a.key} holds no PEM certificate \\(are --tls-cert and --tls-key swapped\\?\\)`,
        ),
      );
      const mismatched = await tls(a.cert, b.key);
      assert.equal(mismatched.code, 1);
      assert.match(
        mismatched.stderr,
        new RegExp(
          `TLS cannot start with --tls-cert ${a.cert} and --tls-key ${b.key} \\(the key is not the certificate's\\)`,
        ),
      );
      await Deno.writeTextFile(`${dir}/junk.pem`, "not a key\n");
      const junk = await tls(a.cert, `${dir}/junk.pem`);
      assert.equal(junk.code, 1);
      assert.match(
        junk.stderr,
        /--tls-key \S+junk\.pem holds no PEM private key/,
      );
      for (const out of [swapped, mismatched, junk]) {
        assert.doesNotMatch(out.stderr, /Uncaught| {4}at /);
      }
    });

    await t.step("settings are flags too: --key-quota", async () => {
      const bad = await runMain([...common, "--key-quota", "many"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--key-quota must be a whole number/);
      const zero = await runMain([...common, "--key-quota", "0"]);
      assert.equal(zero.code, 1);
      assert.match(zero.stderr, /keyQuota must be an integer from 1/);
      const help = await new Deno.Command(Deno.execPath(), {
        args: ["run", ...PERMISSIONS, "server/main.ts", "--help"],
      }).output();
      const usage = new TextDecoder().decode(help.stdout);
      for (
        const flag of [
          "--key-quota",
          "OKMS_KEY_QUOTA",
          "--max-encryptions-per-version",
          "--maintenance-interval-ms",
        ]
      ) {
        assert.ok(usage.includes(flag), flag);
      }
    });

    await t.step({
      name: "an unreadable data directory is named, by the admin CLI too",
      // Root reads everything; without CAP_DAC_OVERRIDE it does not.
      ignore: Deno.uid() !== 0,
      fn: async () => {
        await Deno.chmod(dataDir, 0o000);
        try {
          const dropped = [
            "setpriv",
            "--bounding-set",
            "-dac_override,-dac_read_search",
            "--",
          ];
          const out = await admin(
            ["list-accounts", "--data-dir", dataDir],
            dropped,
          );
          assert.equal(out.code, 2, out.stderr);
          assert.match(
            out.stderr,
            new RegExp(
              `cannot read the okms data directory ${dataDir}: permission denied \\(it belongs to uid 0: run as that user\\)`,
            ),
          );
        } finally {
          await Deno.chmod(dataDir, 0o700);
        }
        const plain = await Deno.makeTempDir({ dir });
        const notOkms = await admin(["list-accounts", "--data-dir", plain]);
        assert.equal(notOkms.code, 2);
        assert.match(notOkms.stderr, /is not an okms data directory/);
      },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve --help on a fresh cache fetches no AWS SDK", async () => {
  const denoDir = await Deno.makeTempDir({ prefix: "okms-deno-dir-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "serve", "--help"],
      env: { DENO_DIR: denoDir, NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.match(new TextDecoder().decode(out.stdout), /--key-quota/);
    assert.match(stderr, /hono/, "the server's own dependency is fetched");
    assert.doesNotMatch(stderr, /aws-sdk/);
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
});

/**
 * The server and admin programs as processes: first start, credentials
 * file, the admin CLI beside a running server, TLS, SIGTERM/SIGINT; and
 * graceful shutdown finishing an in-flight request.
 */
import assert from "node:assert/strict";
import { KMSClient, ListKeysCommand } from "./aws_sdk.ts";
import { createApp } from "../server/app.ts";
import { REVALIDATE_MS } from "../server/credentials.ts";
import { operation, OPERATIONS } from "../server/operations.ts";
import { structure } from "../server/wire.ts";
import { openTestCredentials } from "./server_fixture.ts";
import {
  admin,
  firstCredentials,
  PERMISSIONS,
  selfSignedCertificate,
  startMain,
} from "./server_processes.ts";
import { signKmsRequest, toRequest } from "./server_sigv4_signer.ts";

Deno.test("server and admin processes", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "okms-server-main-" });
  const dataDir = `${dir}/data`;
  const common = ["--data-dir", dataDir];
  try {
    await t.step("--help and bad flags", async () => {
      const help = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          ...PERMISSIONS,
          "--allow-net",
          "server/main.ts",
          "--help",
        ],
      }).output();
      assert.equal(help.code, 0);
      assert.match(new TextDecoder().decode(help.stdout), /OKMS_TLS_CERT/);
      const bad = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          ...PERMISSIONS,
          "--allow-net",
          "server/main.ts",
          "--prot",
          "1",
        ],
      }).output();
      assert.equal(bad.code, 2);
      assert.match(
        new TextDecoder().decode(bad.stderr),
        /okms: unknown flag --prot \(see --help\)/,
      );
      assert.equal((await admin(["frobnicate", ...common])).code, 2);
      assert.equal((await admin([...common])).code, 2, "no command");
      // Before any server made it, the data directory is not created behind the user's back.
      const none = await admin(["list-accounts", ...common]);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /no okms data directory at .*give --data-dir/);
      await assert.rejects(
        Deno.stat(`${dataDir}/okms.db`),
        Deno.errors.NotFound,
      );
    });

    let first = { accessKeyId: "", secretAccessKey: "" };
    let accountA = "";
    await t.step(
      "first start: account, access key, credentials file; SIGTERM",
      async () => {
        const server = await startMain([
          ...common,
          "--port",
          "0",
          "--audit-log",
          `${dir}/audit.log`,
        ]);
        assert.match(server.banner, /First start: account (\d{12})/);
        accountA = /First start: account (\d{12})/.exec(server.banner)![1];
        const file = `${dataDir}/credentials`;
        assert.match(
          server.banner,
          new RegExp(
            `AWS_SHARED_CREDENTIALS_FILE=${file} aws kms encrypt --endpoint-url ${server.url} --region eu-west-2 --key-id arn:aws:kms:eu-west-2:${accountA}:key/`,
          ),
        );
        assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
        first = await firstCredentials(file);
        assert.ok(!server.banner.includes(first.secretAccessKey));
        const kms = new KMSClient({
          endpoint: server.url,
          region: "eu-west-2",
          credentials: first,
          maxAttempts: 1,
        });
        const keys = await kms.send(new ListKeysCommand({}));
        assert.equal(keys.Keys!.length, 1);

        // The admin CLI works beside the running server, which sees its
        // new access keys at once.
        const extra = await admin(["list-access-keys", ...common]);
        assert.equal(extra.code, 0);
        assert.deepEqual(
          (extra.json as { accessKeyId: string; status: string }[]).map((
            k,
          ) => [k.accessKeyId, k.status]),
          [[first.accessKeyId, "Active"]],
        );
        const live = await admin(["create-access-key", ...common]);
        assert.equal(live.code, 0, live.stderr);
        const liveKey = live.json as {
          accessKeyId: string;
          secretAccessKey: string;
        };
        const liveClient = new KMSClient({
          endpoint: server.url,
          region: "eu-west-2",
          credentials: liveKey,
          maxAttempts: 1,
        });
        assert.equal(
          (await liveClient.send(new ListKeysCommand({}))).Keys!.length,
          1,
        );
        const second = await startMain([...common, "--port", "0"]).then(
          () => "started",
          (error: Error) => error.message,
        );
        assert.match(second, /in use by another process/);
        assert.doesNotMatch(
          second,
          /Uncaught| {4}at /,
          "a message, not a stack trace",
        );

        // A taken port: a clear message, exit 1, and no first start done.
        const port = new URL(server.url).port;
        const otherDir = `${dir}/other-data`;
        const taken = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            ...PERMISSIONS,
            "--allow-net",
            "server/main.ts",
            "--data-dir",
            otherDir,
            "--port",
            port,
          ],
        }).output();
        const takenErr = new TextDecoder().decode(taken.stderr);
        assert.equal(taken.code, 1, takenErr);
        assert.match(
          takenErr,
          new RegExp(`okms: 127\\.0\\.0\\.1:${port} is already in use`),
        );
        assert.doesNotMatch(takenErr, /Uncaught/);
        await assert.rejects(
          Deno.stat(`${otherDir}/credentials`),
          Deno.errors.NotFound,
        );

        const stopped = await server.stop("SIGTERM");
        assert.equal(stopped.code, 0);
        assert.match(stopped.stderr, /stopped/);
      },
    );

    let b = { accountId: "", accessKeyId: "", secretAccessKey: "" };
    await t.step(
      "admin: create-account, create-access-key, revoke",
      async () => {
        const created = await admin(["create-account", ...common]);
        assert.equal(created.code, 0, created.stderr);
        b = created.json as typeof b;
        assert.match(b.accountId, /^\d{12}$/);
        assert.notEqual(b.accountId, accountA);
        const second = await admin([
          "create-access-key",
          "--account",
          accountA,
          ...common,
        ]);
        assert.equal(
          (second.json as { accountId: string }).accountId,
          accountA,
        );
        const revoked = await admin([
          "revoke-access-key",
          (second.json as { accessKeyId: string }).accessKeyId,
          ...common,
        ]);
        assert.equal((revoked.json as { status: string }).status, "Revoked");
        const accounts = await admin(["list-accounts", ...common]);
        assert.deepEqual(
          (accounts.json as { accountId: string }[]).map((a) => a.accountId),
          [accountA, b.accountId],
          "the internal account is hidden",
        );
        assert.match(
          (accounts.json as { defaultKeyArn: string }[])[0].defaultKeyArn,
          new RegExp(`^arn:aws:kms:eu-west-2:${accountA}:key/`),
        );
        assert.equal(
          (await admin(["revoke-access-key", "AKIANONE", ...common])).code,
          1,
        );
        assert.equal(
          (await admin([
            "list-access-keys",
            "--account",
            "999999999999",
            ...common,
          ])).code,
          1,
          "an unknown account is an error, not an empty list",
        );
        assert.equal(
          (await admin([
            "create-access-key",
            "--account",
            "999999999999",
            ...common,
          ])).code,
          1,
        );
      },
    );

    await t.step(
      "second start with TLS: no new key; live revocation; SIGINT",
      async () => {
        const { cert, key } = await selfSignedCertificate(dir, "tls");
        const server = await startMain([
          ...common,
          "--port",
          "0",
          "--tls-cert",
          cert,
          "--tls-key",
          key,
        ]);
        try {
          assert.ok(server.url.startsWith("https://127.0.0.1:"));
          assert.ok(!server.banner.includes("First start"));
          const client = Deno.createHttpClient({
            caCerts: [await Deno.readTextFile(cert)],
          });
          try {
            const call = async (
              creds: { accessKeyId: string; secretAccessKey: string },
            ) => {
              const parts = await signKmsRequest({
                ...creds,
                url: `${server.url}/`,
                operation: "ListKeys",
              });
              const response = await fetch(toRequest(parts), { client });
              return { status: response.status, body: await response.json() };
            };
            const asB = await call(b);
            assert.equal(asB.status, 200);
            assert.equal(asB.body.Keys.length, 1);
            assert.ok(asB.body.Keys[0].KeyArn.includes(`:${b.accountId}:`));
            assert.equal((await call(first)).status, 200);
            assert.equal(
              (await admin(["revoke-access-key", first.accessKeyId, ...common]))
                .code,
              0,
            );
            // The running server sees the revocation within REVALIDATE_MS.
            const revokedAt = performance.now();
            let denied = await call(first);
            while (
              denied.status === 200 &&
              performance.now() - revokedAt < 3 * REVALIDATE_MS
            ) {
              await new Promise((r) => setTimeout(r, 50));
              denied = await call(first);
            }
            assert.equal(denied.status, 400);
            assert.equal(denied.body.__type, "UnrecognizedClientException");
          } finally {
            client.close();
          }
        } finally {
          const stopped = await server.stop("SIGINT");
          assert.equal(stopped.code, 0);
        }
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("graceful shutdown finishes an in-flight request", async () => {
  await using fixture = await openTestCredentials();
  const { okms, credentials, key } = fixture;
  const started = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const app = createApp({
    okms,
    credentials,
    operations: {
      ...OPERATIONS,
      Slow: operation(structure({}), async (account) => {
        started.resolve();
        await release.promise;
        return account.listKeys();
      }),
    },
  });
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const inFlight = fetch(
    toRequest(await signKmsRequest({ ...key, url, operation: "Slow" })),
  );
  await started.promise;
  let closed = false;
  const shutdown = server.shutdown().then(() => closed = true);
  release.resolve();
  const response = await inFlight;
  assert.equal(response.status, 200);
  assert.equal((await response.json()).Keys.length, 1);
  await shutdown;
  assert.ok(closed);
  await assert.rejects(fetch(url, { method: "POST" }));
});

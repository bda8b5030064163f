/**
 * Overload answered, not queued (the in-flight bound and the per-account
 * rate quota, both `ThrottlingException` that the AWS SDK retries), the
 * unauthenticated health probe, and the Prometheus listener with bad input.
 */
import assert from "node:assert/strict";
import { EncryptCommand, KMSClient, ListKeysCommand } from "./aws_sdk.ts";
import { AccessKeyStore } from "../server/access_key_store.ts";
import { createApp } from "../server/app.ts";
import type { AuditRecord } from "../server/audit.ts";
import { accessKeyDbPath, Credentials } from "../server/credentials.ts";
import { startServer } from "../server/mod.ts";
import { operation, OPERATIONS } from "../server/operations.ts";
import { InFlightLimit } from "../server/throttling.ts";
import { structure } from "../server/wire.ts";
import { openTestOkms } from "./helpers.ts";
import { openTestCredentials } from "./server_fixture.ts";
import { signKmsRequest, toRequest } from "./server_sigv4_signer.ts";

const REGION = "eu-west-2";

Deno.test("past the in-flight bound: ThrottlingException at once, and the SDK's retry gets through", async () => {
  await using fixture = await openTestCredentials();
  const { okms, credentials, key } = fixture;
  const records: AuditRecord[] = [];
  const release = Promise.withResolvers<void>();
  let held = 0;
  const inFlight = new InFlightLimit(2);
  const app = createApp({
    okms,
    credentials,
    inFlight,
    audit: (r) => records.push(r),
    operations: {
      ...OPERATIONS,
      Hold: operation(structure({}), async (account) => {
        held++;
        await release.promise;
        return account.listKeys();
      }),
    },
  });
  await using server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const holders = [1, 2].map(async () =>
    fetch(toRequest(await signKmsRequest({ ...key, url, operation: "Hold" })))
  );
  while (held < 2) await new Promise((r) => setTimeout(r, 5));
  assert.equal(inFlight.current, 2);

  // A raw request past the bound is refused at once.
  const refused = await fetch(
    toRequest(await signKmsRequest({ ...key, url, operation: "ListKeys" })),
  );
  assert.equal(refused.status, 400);
  const body = await refused.json();
  assert.equal(body.__type, "ThrottlingException");
  assert.match(body.message, /bound of 2 requests in flight/);

  // The unmodified SDK retries with backoff and succeeds once load falls.
  const kms = new KMSClient({
    endpoint: url,
    region: REGION,
    credentials: key,
    maxAttempts: 8,
  });
  const listed = kms.send(new ListKeysCommand({}));
  const throttledBefore =
    records.filter((r) => r.errorType === "ThrottlingException").length;
  while (
    records.filter((r) => r.errorType === "ThrottlingException").length ===
      throttledBefore
  ) {
    await new Promise((r) => setTimeout(r, 5));
  }
  release.resolve();
  for (const response of await Promise.all(holders)) {
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  const out = await listed;
  assert.equal(out.Keys!.length, 1);
  assert.ok(out.$metadata.attempts! >= 2, "the first attempt was throttled");
  assert.equal(inFlight.current, 0);
  kms.destroy();
});

Deno.test("the per-account rate quota, health and metrics on a real server", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-overload-" });
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    okms: { dataDir, region: REGION },
    clockSkewSeconds: 300,
    auditLog: `${dataDir}/audit.log`,
    accountRateLimit: 4,
    metrics: { host: "127.0.0.1", port: 0 },
  }, () => {});
  const keyArn = (await server.okms.defaultKey()).arn;
  const kms = new KMSClient({
    endpoint: server.url,
    region: REGION,
    credentials: server.firstAccessKey!,
    maxAttempts: 10,
  });
  try {
    await t.step(
      "a burst past the quota is throttled, and retried through",
      async () => {
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            kms.send(
              new EncryptCommand({
                KeyId: keyArn,
                Plaintext: new Uint8Array([i]),
              }),
            )),
        );
        assert.equal(results.length, 10);
        assert.ok(
          results.some((r) => r.$metadata.attempts! > 1),
          "some requests were throttled first",
        );
      },
    );

    await t.step(
      "GET /health without credentials says ok, and nothing else",
      async () => {
        const health = await fetch(`${server.url}/health`);
        assert.equal(health.status, 200);
        assert.deepEqual(await health.json(), { status: "ok" });
        const head = await fetch(`${server.url}/health`, { method: "HEAD" });
        assert.equal(head.status, 200);
        await head.body?.cancel();
        const post = await fetch(`${server.url}/health`, {
          method: "POST",
          body: "{}",
        });
        assert.equal(post.status, 405);
        assert.equal(post.headers.get("allow"), "GET, HEAD");
        await post.body?.cancel();
        for (const path of ["/health/x", "/healthz", "/health?verbose=1"]) {
          const response = await fetch(`${server.url}${path}`);
          const expected = path.startsWith("/health?") ? 200 : 404;
          assert.equal(response.status, expected, path);
          const answer = await response.json();
          if (expected === 200) assert.deepEqual(answer, { status: "ok" });
          else assert.equal(answer.__type, "UnknownOperationException");
        }
      },
    );

    await t.step(
      "the metrics listener: counts, throttles, HSM calls; bad input",
      async () => {
        const url = server.metricsUrl!;
        assert.ok(!url.startsWith(server.url), "a listener of its own");
        const response = await fetch(url);
        assert.equal(response.status, 200);
        assert.match(response.headers.get("content-type")!, /^text\/plain/);
        const text = await response.text();
        const value = (pattern: RegExp) =>
          Number(pattern.exec(text)?.[1] ?? "NaN");
        assert.equal(
          value(
            /^okms_requests_total\{operation="Encrypt",outcome="success"\} (\d+)$/m,
          ),
          10,
        );
        assert.ok(
          value(
            /^okms_requests_total\{operation="Encrypt",outcome="ThrottlingException"\} (\d+)$/m,
          ) >= 1,
        );
        assert.ok(
          value(
            /^okms_requests_throttled_total\{reason="account_rate"\} (\d+)$/m,
          ) >= 1,
        );
        assert.ok(
          value(
            /^okms_hsm_call_duration_seconds_count\{call="encrypt"\} (\d+)$/m,
          ) >= 10,
        );
        assert.equal(value(/^okms_requests_in_flight (\d+)$/m), 0);
        assert.match(
          text,
          /^okms_request_duration_seconds_bucket\{le="\+Inf",operation="Encrypt"\} \d+$/m,
        );
        assert.ok(!text.includes(server.firstAccessKey!.accessKeyId));

        const post = await fetch(url, { method: "POST", body: "x" });
        assert.equal(post.status, 405);
        await post.body?.cancel();
        const other = await fetch(url.replace("/metrics", "/admin"));
        assert.equal(other.status, 404);
        await other.body?.cancel();
        // Not HTTP at all: the listener drops it and keeps serving.
        const port = Number(new URL(url).port);
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        await conn.write(new TextEncoder().encode("\x00\x01garbage\r\n\r\n"));
        await conn.read(new Uint8Array(1024)).catch(() => null);
        conn.close();
        const again = await fetch(url);
        assert.equal(again.status, 200);
        await again.body?.cancel();
      },
    );
  } finally {
    kms.destroy();
    await server.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("GET /health is 503 when okms cannot serve, with no detail", async () => {
  const fixture = await openTestOkms();
  const { okms, dataDir } = fixture;
  const credentials = await Credentials.open(
    okms,
    AccessKeyStore.open(accessKeyDbPath(dataDir)),
  );
  const probed = createApp({ okms, credentials });
  assert.equal((await probed.request("/health")).status, 200);
  await credentials.close();
  await fixture[Symbol.asyncDispose]();
  // One check serves the probes of the next HEALTH_CACHE_MS...
  assert.equal((await probed.request("/health")).status, 200);
  // ...and a check after okms closed says unavailable, nothing more.
  const down = await createApp({ okms, credentials }).request("/health");
  assert.equal(down.status, 503);
  assert.deepEqual(await down.json(), { status: "unavailable" });
});

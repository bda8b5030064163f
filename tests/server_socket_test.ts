/**
 * The server on a real socket, spoken to in raw HTTP/1.1: what a client
 * that misbehaves on the wire gets (short bodies, half-closed connections,
 * a second Authorization header), and that none of it is an internal fault.
 */
import assert from "node:assert/strict";
import { createApp } from "../server/app.ts";
import { startServer } from "../server/mod.ts";
import { Listener } from "../server/listener.ts";
import { InFlightLimit } from "../server/throttling.ts";
import { openTestCredentials } from "./server_fixture.ts";
import type { AuditRecord } from "../server/audit.ts";
import {
  type SignedParts,
  signKmsRequest,
  toRequest,
} from "./server_sigv4_signer.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

/** The head of a raw request: its lines, with `extra` header lines added. */
function head(parts: SignedParts, length: number, extra: string[] = []) {
  const lines = [`POST / HTTP/1.1`];
  for (const [name, value] of Object.entries(parts.headers)) {
    lines.push(`${name}: ${value}`);
  }
  lines.push(...extra, `content-length: ${length}`, "", "");
  return utf8(lines.join("\r\n"));
}

/**
 * Writes `bytes`, half-closes if asked, and returns the status line of the
 * answer, or `null` when the server dropped the connection without one.
 */
async function exchange(
  port: number,
  bytes: Uint8Array,
  halfClose = true,
): Promise<string | null> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(bytes);
    if (halfClose) await conn.closeWrite();
    let text = "";
    const buffer = new Uint8Array(16 * 1024);
    for (let n; (n = await conn.read(buffer)) !== null;) {
      text += new TextDecoder().decode(buffer.subarray(0, n));
      if (text.includes("\r\n\r\n")) break;
    }
    return text === "" ? null : text.slice(0, text.indexOf("\r\n"));
  } catch {
    return null; // reset by the server: a dropped connection
  } finally {
    conn.close();
  }
}

Deno.test("raw HTTP: bad bodies and headers are the client's errors, never faults", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-socket-" });
  const auditLog = `${dataDir}/audit.log`;
  const log: string[] = [];
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    okms: { dataDir },
    clockSkewSeconds: 300,
    auditLog,
  }, (line) => log.push(line));
  const port = Number(new URL(server.url).port);
  const key = server.firstAccessKey!;
  const keyArn = (await server.okms.defaultKey()).arn;
  const bannerLines = log.length;
  const sign = (plaintextBytes: number) =>
    signKmsRequest({
      ...key,
      url: `${server.url}/`,
      operation: "Encrypt",
      body: {
        KeyId: keyArn,
        Plaintext: new Uint8Array(Math.min(plaintextBytes, 4096)).toBase64(),
        // Padding up to the size wanted, in the (non-secret) context.
        EncryptionContext: plaintextBytes > 4096
          ? { pad: "p".repeat(plaintextBytes - 4096) }
          : undefined,
      },
    });
  try {
    await t.step("a whole request answers 200", async () => {
      const parts = await sign(32);
      const status = await exchange(
        port,
        new Uint8Array([...head(parts, parts.body.length), ...parts.body]),
        false,
      );
      assert.equal(status, "HTTP/1.1 200 OK");
    });

    await t.step(
      "a body shorter than its Content-Length is a 400 or a dropped connection",
      async () => {
        for (const size of [32, 1000, 6000]) {
          const parts = await sign(size);
          const status = await exchange(
            port,
            new Uint8Array([
              ...head(parts, parts.body.length + 100),
              ...parts.body,
            ]),
          );
          assert.ok(
            status === null || status === "HTTP/1.1 400 Bad Request",
            `${size} bytes: ${status}`,
          );
        }
      },
    );

    await t.step(
      "signed requests of 1 to 60 KB whose client half-closes",
      async () => {
        for (let i = 0; i < 40; i++) {
          const parts = await sign(1024 + i * 1500);
          const status = await exchange(
            port,
            new Uint8Array([
              ...head(parts, parts.body.length),
              ...parts.body,
            ]),
          );
          assert.ok(
            status === null || /^HTTP\/1\.1 [24]\d\d /.test(status),
            `request ${i}: ${status}`,
          );
        }
      },
    );

    await t.step("a second Authorization header is refused", async () => {
      const parts = await sign(32);
      const twice = head(parts, parts.body.length, [
        "authorization: junk",
      ]);
      const status = await exchange(
        port,
        new Uint8Array([...twice, ...parts.body]),
        false,
      );
      assert.equal(status, "HTTP/1.1 400 Bad Request");
    });

    await t.step("none of it is an internal fault", async () => {
      assert.deepEqual(log.slice(bannerLines), []);
      await server.shutdown();
      const records: AuditRecord[] = (await Deno.readTextFile(auditLog))
        .trim().split("\n").map((line) => JSON.parse(line));
      assert.ok(records.length >= 45);
      assert.ok(records.every((r) => r.status < 500), JSON.stringify(records));
      const twice = records.find((r) =>
        r.errorType === "IncompleteSignatureException"
      );
      assert.match(twice?.errorMessage ?? "", /once each/);
      const short = records.find((r) =>
        r.errorType === "SerializationException"
      );
      assert.match(short?.errorMessage ?? "", /could not be read in full/);
    });
  } finally {
    await server.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("silent clients hold no in-flight place, are cut off, and cannot stall a stop", async () => {
  await using fixture = await openTestCredentials();
  const { okms, credentials, key } = fixture;
  const app = createApp({
    okms,
    credentials,
    inFlight: new InFlightLimit(2),
    limits: { bodyTimeoutMs: 300 },
  });
  const listener = Listener.serve(
    { hostname: "127.0.0.1", port: 0 },
    app.fetch,
  );
  const port = listener.server.addr.port;
  const url = `http://127.0.0.1:${port}/`;
  // Four clients announce a body and never send it.
  const silent = await Promise.all([1, 2, 3, 4].map(async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(utf8(
      "POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: 1000\r\n\r\n",
    ));
    return conn;
  }));
  try {
    const listed = await fetch(
      toRequest(await signKmsRequest({ ...key, url, operation: "ListKeys" })),
    );
    assert.equal(listed.status, 200, "the bound of 2 is not taken by them");
    await listed.body?.cancel();
    for (const conn of silent) {
      const buffer = new Uint8Array(4096);
      const n = await conn.read(buffer);
      const text = new TextDecoder().decode(buffer.subarray(0, n ?? 0));
      assert.match(text, /^HTTP\/1\.1 400 /, "cut off at the body deadline");
      assert.match(text, /did not arrive within 0\.3 s/);
    }
    // One more, still inside its body's deadline when the stop comes: the
    // stop waits for it no longer than its grace, then closes everything.
    const late = await Deno.connect({ hostname: "127.0.0.1", port });
    silent.push(late);
    await late.write(utf8(
      "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n",
    ));
    await new Promise((r) => setTimeout(r, 50)); // its handler is waiting
    assert.equal(await listener.stop(100), "forced");
    for (const conn of silent) {
      assert.equal(await conn.read(new Uint8Array(1)), null, "closed");
    }
  } finally {
    for (const conn of silent) conn.close();
    await listener.stop(0);
  }
});

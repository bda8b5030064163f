/**
 * Protocol edge cases through `app.request`, with raw requests signed by
 * the independent test signer: status codes, `__type` names, limits, the
 * SigV4 checks one by one, sealed secrets, and internal faults.
 */
import assert from "node:assert/strict";
import { AccessKeyStore } from "../server/access_key_store.ts";
import { createApp } from "../server/app.ts";
import type { AuditRecord } from "../server/audit.ts";
import { accessKeyDbPath, Credentials } from "../server/credentials.ts";
import { operation, OPERATIONS } from "../server/operations.ts";
import { optional, string, structure } from "../server/wire.ts";
import { openTestOkms } from "./helpers.ts";
import {
  type KmsRequest,
  type SignedParts,
  signKmsRequest,
  toRequest,
} from "./server_sigv4_signer.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

async function json(response: Response) {
  const text = await response.text();
  return text === "" ? undefined : JSON.parse(text);
}

Deno.test("the KMS JSON protocol through app.request", async (t) => {
  await using fixture = await openTestOkms({ region: "eu-west-2" });
  const { okms, dataDir } = fixture;
  const warnings: string[] = [];
  await using credentials = await Credentials.open(
    okms,
    AccessKeyStore.open(accessKeyDbPath(dataDir)),
    { warn: (line) => warnings.push(line) },
  );
  const key = await credentials.createAccessKey(okms.accountId);
  const records: AuditRecord[] = [];
  let pingRuns = 0;
  const app = createApp({
    okms,
    credentials,
    audit: (r) => records.push(r),
    limits: { maxBodyBytes: 8192 },
    operations: {
      ...OPERATIONS,
      // An operation with no output, as lifecycle operations will be.
      // A fault that is not a KmsError, as a broken HSM would raise.
      Fail: operation(structure({}), () => {
        throw new Error("token slot 3 is gone");
      }),
      Ping: operation(
        structure({ Note: optional(string) }),
        () => {
          pingRuns++;
          return Promise.resolve(undefined);
        },
      ),
    },
  });
  const defaultKey = (await okms.defaultKey()).arn;
  const sign = (request: Partial<KmsRequest>) =>
    signKmsRequest({ ...key, ...request });
  const send = async (parts: SignedParts | Request) => {
    const response = await app.request(
      parts instanceof Request ? parts : toRequest(parts),
    );
    assert.match(
      response.headers.get("x-amzn-RequestId") ?? "",
      /^[0-9a-f-]{36}$/,
    );
    return { status: response.status, body: await json(response), response };
  };
  const expectError = async (
    parts: SignedParts | Request,
    status: number,
    type: string,
  ) => {
    const { status: got, body } = await send(parts);
    assert.equal(body?.__type, type, JSON.stringify(body));
    assert.equal(got, status);
    assert.equal(typeof body.message, "string");
    return body.message as string;
  };

  await t.step("a signed Encrypt answers AWS JSON", async () => {
    const { status, body, response } = await send(
      await sign({
        operation: "Encrypt",
        body: { KeyId: defaultKey, Plaintext: utf8("hello").toBase64() },
      }),
    );
    assert.equal(status, 200);
    assert.equal(
      response.headers.get("content-type"),
      "application/x-amz-json-1.1",
    );
    assert.equal(body.KeyId, defaultKey);
    assert.equal(body.EncryptionAlgorithm, "SYMMETRIC_DEFAULT");
    assert.ok(Uint8Array.fromBase64(body.CiphertextBlob).length > 40);
  });

  await t.step("empty input: {} and an empty body", async () => {
    for (const body of [{}, ""]) {
      const out = await send(await sign({ operation: "ListKeys", body }));
      assert.equal(out.status, 200);
      assert.equal(out.body.Keys.length, 1);
    }
  });

  await t.step("an operation with no output answers an empty 200", async () => {
    const out = await send(await sign({ operation: "Ping", body: {} }));
    assert.equal(out.status, 200);
    assert.equal(out.body, undefined);
    assert.equal(pingRuns, 1);
  });

  await t.step("DescribeKey dates are epoch seconds", async () => {
    const { body } = await send(
      await sign({ operation: "DescribeKey", body: { KeyId: defaultKey } }),
    );
    const created = body.KeyMetadata.CreationDate;
    assert.equal(typeof created, "number");
    assert.ok(Math.abs(created - Date.now() / 1000) < 3600);
    assert.equal(body.KeyMetadata.AWSAccountId, okms.accountId);
  });

  await t.step("unknown or missing operation", async () => {
    await expectError(
      await sign({ operation: "Nope", body: {} }),
      400,
      "UnknownOperationException",
    );
    await expectError(
      await sign({ operation: "TrentService.toString", body: {} }),
      400,
      "UnknownOperationException",
    );
    await expectError(
      await sign({ operation: "Other.Encrypt", body: {} }),
      400,
      "UnknownOperationException",
    );
  });

  await t.step("bodies that are not the operation's JSON", async () => {
    const cases: [unknown, string][] = [
      ["{not json", "SerializationException"],
      ["[1,2]", "SerializationException"],
      ["null", "SerializationException"],
      [{ KeyId: 5, Plaintext: "aGk=" }, "SerializationException"],
      [
        { KeyId: defaultKey, Plaintext: "%%%not base64" },
        "SerializationException",
      ],
      [{ KeyId: defaultKey, Plaintext: 12 }, "SerializationException"],
      [
        { KeyId: defaultKey, Plaintext: "aGk=", EncryptionContext: [] },
        "SerializationException",
      ],
      [
        { KeyId: defaultKey, Plaintext: "aGk=", EncryptionContext: { a: 1 } },
        "SerializationException",
      ],
      [{ KeyId: defaultKey }, "ValidationException"],
      [{ Plaintext: "aGk=" }, "ValidationException"],
      [{ KeyId: defaultKey, Plaintext: "" }, "ValidationException"],
      [{
        KeyId: defaultKey,
        Plaintext: "aGk=",
        EncryptionAlgorithm: "RSAES_PKCS1_V1_5", // not an AWS algorithm
      }, "ValidationException"],
      ["[".repeat(40) + "]".repeat(40), "SerializationException"],
      [new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), "SerializationException"],
    ];
    for (const [body, type] of cases) {
      const message = await expectError(
        await sign({ operation: "Encrypt", body }),
        400,
        type,
      );
      assert.ok(message.length > 0);
    }
    const nested = `{"KeyId":"x","Tags":${"[".repeat(17)}${"]".repeat(17)}}`;
    assert.match(
      await expectError(
        await sign({ operation: "CreateKey", body: nested }),
        400,
        "SerializationException",
      ),
      /nests deeper/,
    );
    await expectError(
      await sign({
        operation: "GenerateDataKey",
        body: { KeyId: defaultKey, KeySpec: "AES_512" },
      }),
      400,
      "ValidationException",
    );
    await expectError(
      await sign({
        operation: "ListKeys",
        body: { Limit: 1.5 },
      }),
      400,
      "SerializationException",
    );
  });

  await t.step("wrong Content-Type", async () => {
    await expectError(
      await sign({ headers: { "content-type": "application/json" } }),
      400,
      "SerializationException",
    );
  });

  await t.step("library errors keep their AWS status", async () => {
    await expectError(
      await sign({
        operation: "Encrypt",
        body: { KeyId: crypto.randomUUID(), Plaintext: "aGk=" },
      }),
      404,
      "NotFoundException",
    );
    await expectError(
      await sign({
        operation: "Decrypt",
        body: { CiphertextBlob: new Uint8Array(60).toBase64() },
      }),
      400,
      "InvalidCiphertextException",
    );
  });

  await t.step("size limits come before parsing", async () => {
    const big = { KeyId: defaultKey, Plaintext: "A".repeat(9000) };
    const parts = await sign({ operation: "Encrypt", body: big });
    await expectError(parts, 400, "ValidationException");
    // Streamed without Content-Length: cut off at the limit.
    const streamed = new Request(parts.url, {
      method: "POST",
      headers: parts.headers,
      body: ReadableStream.from([
        parts.body.slice(0, 5000),
        parts.body.slice(5000),
      ]),
    });
    assert.equal(streamed.headers.get("content-length"), null);
    await expectError(streamed, 400, "ValidationException");
    const headers: Record<string, string> = {};
    for (let i = 0; i < 80; i++) headers[`x-extra-${i}`] = "1";
    await expectError(
      await sign({ headers }),
      400,
      "ValidationException",
    );
    await expectError(
      await sign({ headers: { "x-big": "b".repeat(20_000) } }),
      400,
      "ValidationException",
    );
  });

  await t.step("routes other than POST / are 404", async () => {
    const get = await app.request("/", { method: "GET" });
    assert.equal(get.status, 404);
    assert.equal((await get.json()).__type, "UnknownOperationException");
    assert.ok(get.headers.get("x-amzn-RequestId"));
    const other = await app.request("/other", { method: "POST", body: "{}" });
    assert.equal(other.status, 404);
  });

  await t.step("SigV4: missing and malformed Authorization", async () => {
    const parts = await sign({});
    const { authorization: _, ...unsignedHeaders } = parts.headers;
    await expectError(
      { ...parts, headers: unsignedHeaders },
      403,
      "MissingAuthenticationTokenException",
    );
    for (
      const header of [
        "Bearer abc",
        "AWS4-HMAC-SHA256 Credential=AKIA/20250101/eu-west-2/kms/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKIA/eu-west-2/kms/aws4_request, SignedHeaders=host, Signature=" +
        "0".repeat(64),
        parts.headers.authorization.replace(
          /Signature=[0-9a-f]+/,
          "Signature=XYZ",
        ),
      ]
    ) {
      await expectError(
        { ...parts, headers: { ...parts.headers, authorization: header } },
        400,
        "IncompleteSignatureException",
      );
    }
    const { "x-amz-date": __, ...noDate } = parts.headers;
    await expectError(
      { ...parts, headers: noDate },
      400,
      "IncompleteSignatureException",
    );
  });

  await t.step("SigV4: the target, host and date must be signed", async () => {
    for (const header of ["x-amz-target", "host", "x-amz-date"]) {
      await expectError(
        await sign({ unsigned: [header] }),
        400,
        "IncompleteSignatureException",
      );
    }
  });

  await t.step("SigV4: tampering breaks the signature", async () => {
    const parts = await sign({
      operation: "Encrypt",
      body: { KeyId: defaultKey, Plaintext: "aGk=" },
    });
    await expectError(
      {
        ...parts,
        body: utf8(JSON.stringify({ KeyId: defaultKey, Plaintext: "aGl=" })),
      },
      400,
      "InvalidSignatureException",
    );
    await expectError(
      {
        ...parts,
        headers: {
          ...parts.headers,
          "x-amz-target": "TrentService.GenerateDataKey",
        },
      },
      400,
      "InvalidSignatureException",
    );
    await expectError(
      { ...parts, headers: { ...parts.headers, host: "evil.example" } },
      400,
      "InvalidSignatureException",
    );
    await expectError(
      await sign({ secretAccessKey: key.secretAccessKey.slice(1) + "x" }),
      400,
      "InvalidSignatureException",
    );
    // An unsigned header may change: it is not covered.
    const loose = await sign({
      headers: { "x-note": "a" },
      unsigned: ["x-note"],
    });
    assert.equal(
      (await send({ ...loose, headers: { ...loose.headers, "x-note": "b" } }))
        .status,
      200,
    );
  });

  await t.step("SigV4: x-amz-content-sha256 must match the body", async () => {
    const body = utf8("{}");
    const good = new Uint8Array(await crypto.subtle.digest("SHA-256", body))
      .toHex();
    assert.equal(
      (await send(await sign({ headers: { "x-amz-content-sha256": good } })))
        .status,
      200,
    );
    await expectError(
      await sign({ headers: { "x-amz-content-sha256": "0".repeat(64) } }),
      400,
      "InvalidSignatureException",
    );
    await expectError(
      await sign({ headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } }),
      400,
      "InvalidSignatureException",
    );
  });

  await t.step("SigV4: credential scope", async () => {
    for (const bad of [{ region: "us-east-1" }, { service: "s3" }]) {
      await expectError(await sign(bad), 400, "InvalidSignatureException");
    }
    const parts = await sign({});
    const wrongDay = parts.headers.authorization.replace(
      /Credential=([^/]+)\/\d{8}/,
      "Credential=$1/19990101",
    );
    await expectError(
      { ...parts, headers: { ...parts.headers, authorization: wrongDay } },
      400,
      "InvalidSignatureException",
    );
  });

  await t.step("SigV4: clock skew of 5 minutes either way", async () => {
    const at = (minutes: number) => new Date(Date.now() + minutes * 60_000);
    assert.match(
      await expectError(
        await sign({ date: at(-6) }),
        400,
        "InvalidSignatureException",
      ),
      /expired/,
    );
    assert.match(
      await expectError(
        await sign({ date: at(6) }),
        400,
        "InvalidSignatureException",
      ),
      /not yet current/,
    );
    assert.equal((await send(await sign({ date: at(-4) }))).status, 200);
    assert.equal((await send(await sign({ date: at(4) }))).status, 200);
  });

  await t.step("SigV4: unknown keys and session tokens", async () => {
    await expectError(
      await sign({ accessKeyId: "AKIAAAAAAAAAAAAAAAAA" }),
      400,
      "UnrecognizedClientException",
    );
    await expectError(
      await sign({ headers: { "x-amz-security-token": "token" } }),
      400,
      "UnrecognizedClientException",
    );
  });

  await t.step(
    "secrets are sealed in the table and bound to their id",
    async () => {
      const other = await credentials.createAccessKey(okms.accountId);
      const tenant = await okms.createAccount();
      const elsewhere = await credentials.createAccessKey(tenant.accountId);
      // Rows may sit in the WAL file as well as in the database file.
      const files = [
        accessKeyDbPath(dataDir),
        `${accessKeyDbPath(dataDir)}-wal`,
      ];
      const onDisk = (await Promise.all(
        files.map((f) => Deno.readFile(f).catch(() => new Uint8Array())),
      ))
        .map((bytes) => new TextDecoder("latin1").decode(bytes)).join("");
      for (const k of [key, other, elsewhere]) {
        assert.ok(
          onDisk.includes(k.accessKeyId),
          "the rows are in the files read",
        );
        assert.ok(
          !onDisk.includes(k.secretAccessKey),
          "no plaintext secret on disk",
        );
      }
      const { DatabaseSync } = await import("node:sqlite");
      const raw = new DatabaseSync(accessKeyDbPath(dataDir));
      // A row moved to another account does not open.
      raw.prepare(
        "UPDATE access_keys SET account_id = ? WHERE access_key_id = ?",
      )
        .run(okms.accountId, elsewhere.accessKeyId);
      // A sealed secret moved onto another access key does not open.
      raw.prepare(
        "UPDATE access_keys SET sealed_secret = (SELECT sealed_secret FROM access_keys WHERE access_key_id = ?) WHERE access_key_id = ?",
      ).run(key.accessKeyId, other.accessKeyId);
      raw.close();
      await expectError(
        await sign({ ...other }),
        400,
        "UnrecognizedClientException",
      );
      await expectError(
        await sign({ ...other, secretAccessKey: key.secretAccessKey }),
        400,
        "UnrecognizedClientException",
      );
      await expectError(
        await sign({ ...elsewhere }),
        400,
        "UnrecognizedClientException",
      );
      assert.deepEqual(
        warnings,
        [other, other, elsewhere].map((k) =>
          `okms: the sealed secret of access key ${k.accessKeyId} does not open: refusing the key`
        ),
      );
    },
  );

  await t.step("the internal account gets no access keys", async () => {
    await assert.rejects(
      credentials.createAccessKey(credentials.internalAccountId),
      { name: "ValidationException" },
    );
    await assert.rejects(
      credentials.createAccessKey("999999999999"),
      { name: "NotFoundException" },
    );
  });

  await t.step(
    "a refused Decrypt is audited with its key and reason",
    async () => {
      const created = await okms.createKey();
      const { ciphertextBlob } = await okms.encrypt({
        keyId: created.keyId,
        plaintext: utf8("x"),
      });
      await okms.disableKey({ keyId: created.keyId });
      await expectError(
        await sign({
          operation: "Decrypt",
          body: { CiphertextBlob: ciphertextBlob.toBase64() },
        }),
        409,
        "DisabledException",
      );
      const refused = records.at(-1)!;
      assert.equal(refused.operation, "Decrypt");
      assert.equal(refused.keyId, created.arn);
      assert.equal(refused.errorMessage, `${created.arn} is disabled`);
      await okms.scheduleKeyDeletion({
        keyId: created.keyId,
        pendingWindowInDays: 7,
      });
      await expectError(
        await sign({
          operation: "Decrypt",
          body: { CiphertextBlob: ciphertextBlob.toBase64() },
        }),
        409,
        "KMSInvalidStateException",
      );
      assert.equal(records.at(-1)!.keyId, created.arn);
    },
  );

  await t.step("audit records: outcomes, never plaintext", () => {
    const ok = records.find((r) =>
      r.operation === "Encrypt" && r.status === 200
    )!;
    assert.equal(ok.outcome, "success");
    assert.equal(ok.accountId, okms.accountId);
    assert.equal(ok.keyId, defaultKey);
    const tooBig = records.find((r) =>
      r.errorMessage === "the request body is larger than 8192 bytes"
    )!;
    assert.equal(tooBig.errorType, "ValidationException");
    assert.equal(tooBig.status, 400);
    const text = JSON.stringify(records);
    assert.ok(!text.includes(utf8("hello").toBase64()));
    assert.ok(!text.includes(key.secretAccessKey));
  });

  await t.step(
    "an internal fault is a 500 with a generic message",
    async () => {
      const logged: unknown[][] = [];
      const original = console.error;
      console.error = (...args: unknown[]) => logged.push(args);
      try {
        const message = await expectError(
          await sign({ operation: "Fail", body: {} }),
          500,
          "KMSInternalException",
        );
        assert.match(message, /request id/);
        assert.ok(!message.includes("token slot 3"), "no internals sent");
      } finally {
        console.error = original;
      }
      assert.equal(logged.length, 1, "the fault is logged server-side");
      assert.match(String(logged[0][0]), /token slot 3/);
    },
  );
});

/**
 * A machine with an HSM of its own joins a cluster: two data directories,
 * each with its own embedded SoftHSM2 token (two machines' HSMs), on one
 * PostgreSQL. The new node is refused until the admin transfer brings the
 * domain keys into its HSM; then either node decrypts what the other
 * encrypted.
 */
import assert from "node:assert/strict";
import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  KMSClient,
} from "./aws_sdk.ts";
import { startPostgres } from "./postgres_cluster.ts";
import {
  admin,
  firstCredentials,
  type Server,
  startMain,
} from "./server_processes.ts";

const plaintext = new TextEncoder().encode("across HSMs");

Deno.test("a machine with its own HSM joins the cluster", async (t) => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase("joining");
  const dir = await Deno.makeTempDir({ prefix: "okms-join-" });
  const member = ["--database-url", url, "--data-dir", `${dir}/member`];
  const joining = ["--database-url", url, "--data-dir", `${dir}/new`];
  const serve = (node: string[]) =>
    startMain([...node, "--port", "0", "--audit-log", `${dir}/audit.log`]);
  const servers: Server[] = [];
  try {
    const a = await serve(member);
    servers.push(a);
    const credentials = await firstCredentials(`${dir}/member/credentials`);
    const client = (server: Server) =>
      new KMSClient({
        endpoint: server.url,
        region: "eu-west-2",
        maxAttempts: 1,
        credentials,
      });
    const onA = client(a);
    const keyId = (await onA.send(new CreateKeyCommand({}))).KeyMetadata!
      .KeyId!;
    const fromA = (await onA.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }),
    )).CiphertextBlob!;

    await t.step(
      "a node on an HSM not admitted is refused, saying what to do",
      async () => {
        await assert.rejects(
          serve(joining),
          /admits the embedded SoftHSM2 token \(serial [0-9a-f]+\), not the embedded SoftHSM2 token \(serial [0-9a-f]+\): bring the domain keys into this token first with `deno task admin transfer-request`/,
        );
      },
    );

    let fingerprint = "";
    await t.step(
      "transfer: request, grant (fingerprint checked), accept",
      async () => {
        const request = await admin([
          "transfer-request",
          ...joining,
          "--out",
          `${dir}/request.json`,
        ]);
        assert.equal(request.code, 0, request.stderr);
        fingerprint = (request.json as { fingerprint: string }).fingerprint;
        assert.equal(
          (await Deno.stat(`${dir}/request.json`)).mode! & 0o777,
          0o600,
        );

        const unchecked = await admin([
          "transfer-grant",
          ...member,
          "--in",
          `${dir}/request.json`,
          "--out",
          `${dir}/unchecked.json`,
        ]);
        assert.equal(unchecked.code, 2, "the fingerprint is required");
        assert.match(unchecked.stderr, /transfer-grant needs --fingerprint/);
        const forged = await admin([
          "transfer-grant",
          ...member,
          "--in",
          `${dir}/request.json`,
          "--out",
          `${dir}/forged.json`,
          "--fingerprint",
          "0".repeat(fingerprint.length),
        ]);
        assert.equal(forged.code, 1);
        assert.match(forged.stderr, /fingerprint/);
        const fromNew = await admin([
          "transfer-grant",
          ...joining,
          "--in",
          `${dir}/request.json`,
          "--out",
          `${dir}/from-new.json`,
          "--fingerprint",
          fingerprint,
        ]);
        assert.equal(fromNew.code, 1);
        assert.match(fromNew.stderr, /is not admitted to the cluster/);

        const grant = await admin([
          "transfer-grant",
          ...member, // beside the running member node
          "--in",
          `${dir}/request.json`,
          "--out",
          `${dir}/grant.json`,
          "--fingerprint",
          fingerprint,
        ]);
        assert.equal(grant.code, 0, grant.stderr);
        const granted = await Deno.readTextFile(`${dir}/grant.json`);
        assert.equal(
          (grant.json as { domainKeys: string[] }).domainKeys.length,
          1,
        );

        const accept = await admin([
          "transfer-accept",
          ...joining,
          "--in",
          `${dir}/grant.json`,
        ]);
        assert.equal(accept.code, 0, accept.stderr);
        assert.ok(
          !accept.stderr.includes(granted),
          "nothing of the grant logged",
        );
        const replay = await admin([
          "transfer-accept",
          ...joining,
          "--in",
          `${dir}/grant.json`,
        ]);
        assert.equal(replay.code, 1, "the transfer key is gone");
      },
    );

    await t.step("the admitted node serves every key, both ways", async () => {
      const b = await serve(joining);
      servers.push(b);
      assert.doesNotMatch(b.banner, /First start/);
      const onB = client(b);
      const back = await onB.send(
        new DecryptCommand({ CiphertextBlob: fromA }),
      );
      assert.deepEqual(back.Plaintext, plaintext);
      const fromB = (await onB.send(
        new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }),
      )).CiphertextBlob!;
      const again = await onA.send(
        new DecryptCommand({ CiphertextBlob: fromB }),
      );
      assert.deepEqual(again.Plaintext, plaintext);
      // A key made on the new machine serves on the first.
      const made = (await onB.send(new CreateKeyCommand({}))).KeyMetadata!
        .KeyId!;
      await onA.send(new EncryptCommand({ KeyId: made, Plaintext: plaintext }));
    });
  } finally {
    for (const server of servers) await server.stop("SIGTERM");
    await Deno.remove(dir, { recursive: true });
  }
});

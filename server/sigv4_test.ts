import assert from "node:assert/strict";
import { DEFAULT_LIMITS } from "./limits.ts";
import { createHmac } from "node:crypto";
import { signKmsRequest, toRequest } from "../tests/server_sigv4_signer.ts";
import {
  deriveSigningKey,
  HmacSha256Key,
  parseAuthorization,
  type SecretSource,
  type SigningSecret,
  SigV4Verifier,
} from "./sigv4.ts";

const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const NOW = Date.UTC(2025, 0, 2, 12, 0, 0);

function fixture() {
  const stored: SigningSecret = {
    accessKeyId: "AKIDEXAMPLE",
    accountId: "111122223333",
    secret: new TextEncoder().encode(SECRET),
  };
  let lookups = 0;
  const secrets: SecretSource = {
    resolve: (id) => {
      lookups++;
      return Promise.resolve(id === stored.accessKeyId ? stored : undefined);
    },
  };
  const verifier = new SigV4Verifier({
    region: "eu-west-2",
    clockSkewSeconds: 300,
    now: () => NOW,
    secrets,
    limits: DEFAULT_LIMITS,
  });
  const check = async (offsetSeconds: number, body: unknown = {}) => {
    const parts = await signKmsRequest({
      accessKeyId: stored.accessKeyId,
      secretAccessKey: SECRET,
      date: new Date(NOW + offsetSeconds * 1000),
      body,
    });
    const request = toRequest(parts);
    return verifier.verify(
      parseAuthorization(request.headers.get("authorization")),
      request,
      parts.body,
    );
  };
  return { stored, check, lookups: () => lookups };
}

Deno.test("parseAuthorization reads the three parts", () => {
  const auth = parseAuthorization(
    "AWS4-HMAC-SHA256 Credential=AKID/20250102/eu-west-2/kms/aws4_request,SignedHeaders=host;x-amz-date, Signature=" +
      "ab".repeat(32),
  );
  assert.equal(auth.accessKeyId, "AKID");
  assert.equal(auth.scopeDate, "20250102");
  assert.deepEqual(auth.signedHeaders, ["host", "x-amz-date"]);
  assert.throws(
    () => parseAuthorization(null),
    { name: "MissingAuthenticationTokenException" },
  );
  assert.throws(
    () =>
      parseAuthorization(
        "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host",
      ),
    { name: "IncompleteSignatureException" },
  );
  assert.throws(
    () =>
      parseAuthorization(
        "AWS4-HMAC-SHA256 Credential=a//c/d/e, SignedHeaders=host, Signature=" +
          "0".repeat(64),
      ),
    { name: "IncompleteSignatureException" },
  );
});

Deno.test("parseAuthorization refuses repeated, unknown and empty fields", () => {
  const valid =
    "AWS4-HMAC-SHA256 Credential=AKID/20250102/eu-west-2/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=" +
    "ab".repeat(32);
  assert.equal(parseAuthorization(valid).accessKeyId, "AKID");
  const refused = [
    `${valid}, junk`, // a second header, joined by the HTTP layer
    `${valid}, ${valid}`, // the same header twice
    `${valid}, Signature=${"cd".repeat(32)}`, // the last value must not win
    `${valid}, Extra=1`,
    valid.replace("SignedHeaders=", "SignedHeaders"),
    valid.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=host;;x"),
    valid.replace("SignedHeaders=host;x-amz-date", "SignedHeaders="),
    valid.replace(
      "SignedHeaders=host;x-amz-date",
      "SignedHeaders=host;bad header",
    ),
    valid.replace(
      "SignedHeaders=host;x-amz-date",
      "SignedHeaders=Host;x-amz-date",
    ),
    valid.replace("Credential=AKID", "Credential=AKIA-1"),
    valid.replace("Credential=AKID", `Credential=${"A".repeat(129)}`),
  ];
  for (const header of refused) {
    assert.throws(() => parseAuthorization(header), {
      name: "IncompleteSignatureException",
    }, header);
  }
});

Deno.test("the skew window is inclusive at exactly 300 seconds", async () => {
  const { check, stored } = fixture();
  assert.equal(await check(300), stored);
  assert.equal(await check(-300), stored);
  await assert.rejects(check(301), /not yet current/);
  await assert.rejects(check(-301), /expired/);
});

Deno.test("the secret is resolved per request, the signing key derived once a day", async () => {
  const { check, stored, lookups } = fixture();
  await check(0);
  await check(1, { Limit: 5 });
  assert.equal(lookups(), 2, "revocation is checked on every request");
  // Zeroing the stored secret shows whether the derived key was cached.
  const copy = stored.secret.slice();
  stored.secret.fill(0);
  assert.equal(await check(2), stored, "same day: the cached key signs");
  stored.secret.set(copy);
});

Deno.test("HmacSha256Key agrees with node:crypto's createHmac", () => {
  for (const size of [0, 1, 32, 63, 64]) {
    const key = crypto.getRandomValues(new Uint8Array(size));
    for (const data of ["", "abc", "x".repeat(200)]) {
      assert.deepEqual(
        new HmacSha256Key(key).sign(data),
        createHmac("sha256", key).update(data).digest(),
      );
    }
  }
  assert.throws(() => new HmacSha256Key(new Uint8Array(65)), RangeError);
});

Deno.test("signing key and signature match AWS's published SigV4 example", () => {
  // The worked example of the AWS General Reference ("Calculate the
  // signature"): IAM ListUsers on 2015-08-30 in us-east-1.
  const key = deriveSigningKey(
    new TextEncoder().encode("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
    "20150830",
    "us-east-1",
    "iam",
  );
  assert.equal(
    key.toString("hex"),
    "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9",
  );
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    "20150830T123600Z",
    "20150830/us-east-1/iam/aws4_request",
    "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
  ].join("\n");
  assert.equal(
    new HmacSha256Key(key).sign(stringToSign).toString("hex"),
    "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
  );
});

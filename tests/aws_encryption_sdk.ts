/**
 * The AWS Encryption SDK for JavaScript (Node), pinned in this one place,
 * for the envelope interop tests only (see `tests/aws_sdk.ts` for why
 * test-only packages stay out of `deno.json`). Its KMS keyring talks to an
 * okms server through the AWS SDK v3's KMS client.
 * @module
 */
export * from "npm:@aws-crypto/client-node@5.0.2";

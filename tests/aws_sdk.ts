/**
 * The AWS SDK for JavaScript v3's KMS client, pinned in this one place.
 * Only tests use it, so it stays out of `deno.json`'s import map and
 * lockfile: `deno task serve` then never fetches it (the task runner
 * installs whatever the import map and lockfile name). Its lock is
 * `tests/deno.lock`, which the `test` and `check` tasks pass.
 * @module
 */
export * from "npm:@aws-sdk/client-kms@3.1164.0";

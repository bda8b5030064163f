/**
 * Helpers for tests that drive the server with the AWS SDK.
 * @module
 */
import assert from "node:assert/strict";
import type { KMSServiceException } from "./aws_sdk.ts";

/**
 * Asserts that an SDK call fails with the AWS error `name` and HTTP
 * `status`, and a request id; returns the error.
 */
export async function rejectsWith(
  promise: Promise<unknown>,
  name: string,
  status: number,
): Promise<KMSServiceException> {
  try {
    await promise;
  } catch (error) {
    const e = error as KMSServiceException;
    assert.equal(e.name, name, `${e.name}: ${e.message}`);
    assert.equal(e.$metadata.httpStatusCode, status);
    assert.match(e.$metadata.requestId ?? "", /^[0-9a-f-]{36}$/);
    return e;
  }
  throw new Error(`expected ${name}, but the call succeeded`);
}

import assert from "node:assert/strict";
import { fileError } from "./file_error.ts";

Deno.test("fileError names what failed and says what to do", () => {
  const denied = new Deno.errors.PermissionDenied(
    "Permission denied (os error 13): writefile '/srv/okms/owner.lock'",
  );
  const error = fileError("the okms data directory /srv/okms", denied);
  assert.ok(error instanceof Error);
  assert.equal(
    error.message,
    "cannot use the okms data directory /srv/okms (Permission denied (os error 13): writefile '/srv/okms/owner.lock'): " +
      "run okms as the user who owns it, or give that user read and write access to it",
  );
  assert.equal(error.cause, denied);
  const readOnly = fileError(
    "/srv/okms/okms.db",
    Object.assign(new Error("attempt to write a readonly database"), {
      code: "ERR_SQLITE_ERROR",
    }),
  ) as Error;
  assert.match(
    readOnly.message,
    /^cannot use \/srv\/okms\/okms\.db .*: run okms as the user/,
  );
  assert.match(
    (fileError("/x", new Error("Read-only file system (os error 30)")) as Error)
      .message,
    /it is on a read-only file system$/,
  );
  // Anything else passes through unchanged.
  const other = new RangeError("not a file problem");
  assert.equal(fileError("/x", other), other);
});

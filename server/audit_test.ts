import assert from "node:assert/strict";
import { AuditLog, type AuditRecord, MAX_QUEUED_LINES } from "./audit.ts";

function record(i: number): AuditRecord {
  return {
    time: "t",
    requestId: String(i),
    outcome: "success",
    status: 200,
    latencyMs: 1,
  };
}

Deno.test("a stuck output bounds the queue, and the gap is logged once it moves", async () => {
  const written: string[] = [];
  const release = Promise.withResolvers<void>();
  const out = {
    async write(bytes: Uint8Array) {
      await release.promise;
      written.push(new TextDecoder().decode(bytes));
      return bytes.length;
    },
  };
  const log = AuditLog.over(out);
  // The first line is being written; then the queue fills, and 9 are dropped.
  for (let i = 0; i < 1 + MAX_QUEUED_LINES + 9; i++) log.write(record(i));
  release.resolve();
  await log.close();
  const lines = written.join("").trimEnd().split("\n");
  assert.equal(lines.length, 1 + MAX_QUEUED_LINES + 1);
  const gap = JSON.parse(lines.at(-1)!);
  assert.equal(gap.outcome, "audit-lines-dropped");
  assert.equal(gap.count, 9);
  assert.equal(
    JSON.parse(lines[MAX_QUEUED_LINES]).requestId,
    String(MAX_QUEUED_LINES),
  );
});

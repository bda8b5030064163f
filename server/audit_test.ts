import assert from "node:assert/strict";
import { AuditLog, type AuditRecord } from "./audit.ts";

function record(i: number): AuditRecord {
  return {
    time: "t",
    requestId: String(i).padStart(8, "0"),
    outcome: "success",
    status: 200,
    latencyMs: 1,
  };
}

Deno.test("a stuck output bounds the queue, and the gap is logged once it moves", async () => {
  const lineLength = JSON.stringify(record(0)).length + 1;
  const written: string[] = [];
  const release = Promise.withResolvers<void>();
  const out = {
    async write(bytes: Uint8Array) {
      await release.promise;
      written.push(new TextDecoder().decode(bytes));
      return bytes.length;
    },
  };
  // Room for 100 lines; the first line is in flight, 100 wait, 9 are dropped.
  const log = AuditLog.over(out, 100 * lineLength);
  for (let i = 0; i < 1 + 100 + 9; i++) log.write(record(i));
  release.resolve();
  await log.close();
  const lines = written.join("").trimEnd().split("\n");
  assert.equal(lines.length, 1 + 100 + 1);
  assert.equal(JSON.parse(lines[100]).requestId, "00000100");
  const gap = JSON.parse(lines.at(-1)!);
  assert.equal(gap.outcome, "audit-lines-dropped");
  assert.equal(gap.count, 9);
});

import assert from "node:assert/strict";
import {
  AuditLog,
  type AuditRecord,
  FLUSH_AFTER_MS,
  FLUSH_CHARS,
} from "./audit.ts";

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
  const writing = Promise.withResolvers<void>();
  const out = {
    async write(bytes: Uint8Array) {
      writing.resolve();
      await release.promise;
      written.push(new TextDecoder().decode(bytes));
      return bytes.length;
    },
  };
  // Room for 100 lines: a batch of 100 is in flight, 100 wait, 9 are dropped.
  const log = AuditLog.over(out, 100 * lineLength);
  for (let i = 0; i < 100; i++) log.write(record(i));
  await writing.promise;
  for (let i = 100; i < 100 + 100 + 9; i++) log.write(record(i));
  release.resolve();
  await log.close();
  const lines = written.join("").trimEnd().split("\n");
  assert.equal(lines.length, 100 + 100 + 1);
  assert.equal(JSON.parse(lines[199]).requestId, "00000199");
  const gap = JSON.parse(lines.at(-1)!);
  assert.equal(gap.outcome, "audit-lines-dropped");
  assert.equal(gap.count, 9);
});

Deno.test("lines are batched: one write per flush delay, at once when a batch is full, all on close", async () => {
  const writes: string[] = [];
  const out = {
    write(bytes: Uint8Array) {
      writes.push(new TextDecoder().decode(bytes));
      return Promise.resolve(bytes.length);
    },
  };
  const log = AuditLog.over(out);
  for (let i = 0; i < 50; i++) log.write(record(i));
  assert.equal(writes.length, 0, "nothing is written per line");
  await new Promise((r) => setTimeout(r, FLUSH_AFTER_MS * 3));
  assert.equal(writes.length, 1, "one write for the 50 lines");
  assert.equal(writes[0].split("\n").length, 51);

  const lineLength = JSON.stringify(record(0)).length + 1;
  const full = Math.ceil(FLUSH_CHARS / lineLength);
  for (let i = 0; i < full; i++) log.write(record(i));
  await Promise.resolve();
  assert.equal(writes.length, 2, "a full batch does not wait");

  log.write(record(7));
  await log.close();
  assert.equal(writes.length, 3, "close writes what is queued");
  assert.equal(JSON.parse(writes[2]).requestId, "00000007");
});

Deno.test("a batch the output refuses is counted, and the count logged once it works again", async () => {
  const written: string[] = [];
  let failing = true;
  const errors: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    const log = AuditLog.over({
      write(bytes: Uint8Array) {
        if (failing) return Promise.reject(new Error("disk full"));
        written.push(new TextDecoder().decode(bytes));
        return Promise.resolve(bytes.length);
      },
    });
    for (let i = 0; i < 5; i++) log.write(record(i));
    await new Promise((r) => setTimeout(r, FLUSH_AFTER_MS * 3));
    for (let i = 5; i < 8; i++) log.write(record(i));
    await new Promise((r) => setTimeout(r, FLUSH_AFTER_MS * 3));
    assert.equal(errors.length, 1, "the failure is reported once");
    failing = false;
    log.write(record(8));
    await log.close();
    const lines = written.join("").trimEnd().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.equal(lines[0].requestId, "00000008");
    assert.deepEqual(
      { outcome: lines[1].outcome, count: lines[1].count },
      { outcome: "audit-lines-dropped", count: 8 },
    );
  } finally {
    console.error = original;
  }
});

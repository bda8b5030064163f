/**
 * Envelope messages as streams: any chunking reads and writes the same
 * messages as the byte functions; no frame's plaintext leaves before its
 * tag verifies; truncation and bad signatures error the stream; signed
 * messages can be refused; back-pressure holds and memory stays bounded.
 */
import assert from "node:assert/strict";
import {
  decryptMessage,
  decryptStream,
  encryptMessage,
  encryptStream,
} from "../lib/envelope/mod.ts";
import {
  chunked,
  collect,
  frameOffsets,
  openEnvelopeFixture,
  pattern,
} from "./envelope_helpers.ts";

/** The chunks a stream gave before it errored, and its error. */
async function readUntilError(stream: ReadableStream<Uint8Array>) {
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
  } catch (error) {
    return { chunks, error: error as Error };
  }
  return { chunks, error: undefined };
}

Deno.test("envelope streams", async (t) => {
  await using f = await openEnvelopeFixture();
  const { keyring, arnA, arnB } = f;
  const context = { file: "x.tar" };

  for (const signed of [false, true]) {
    await t.step(
      `any chunking, both ways (${signed ? "signed" : "unsigned"})`,
      async () => {
        for (
          const [length, frameLength] of [[0, 64], [64, 64], [1000, 64], [
            5000,
            4096,
          ]]
        ) {
          const plaintext = pattern(length);
          for (const sizes of [[1], [3, 100], [65_536]]) {
            const message = await collect(
              chunked(plaintext, sizes).pipeThrough(
                encryptStream(keyring, {
                  keyIds: [arnA, arnB],
                  encryptionContext: context,
                  frameLength,
                  signed,
                }),
              ),
            );
            const out = await decryptMessage(keyring, message, {
              encryptionContext: context,
            });
            assert.deepEqual(out.plaintext, plaintext);
            const streamed = await collect(
              chunked(message, sizes).pipeThrough(decryptStream(keyring)),
            );
            assert.deepEqual(
              streamed,
              plaintext,
              `${length}/${frameLength}/${sizes}`,
            );
          }
        }
      },
    );
  }

  await t.step("no plaintext of a frame before its tag verifies", async () => {
    const plaintext = pattern(300);
    const message = await encryptMessage(keyring, plaintext, {
      keyIds: [arnA],
      frameLength: 100,
    });
    const [, frame2] = frameOffsets(message.length, 300, 100);
    const altered = message.slice();
    altered[frame2 + 50] ^= 1; // in frame 2's ciphertext
    for (const sizes of [[1], [150], [message.length]]) {
      const { chunks, error } = await readUntilError(
        chunked(altered, sizes).pipeThrough(decryptStream(keyring)),
      );
      assert.equal(error?.name, "InvalidCiphertextException");
      const released = await collect(ReadableStream.from(chunks));
      // Frame 1 at most, and only whole.
      assert.ok(
        released.length === 0 || released.length === 100,
        `${released.length}`,
      );
      assert.deepEqual(released, plaintext.subarray(0, released.length));
    }
  });

  await t.step("a truncated stream errors at its end", async () => {
    const message = await encryptMessage(keyring, pattern(300), {
      keyIds: [arnA],
      frameLength: 100,
    });
    for (const end of [0, 10, message.length - 140, message.length - 1]) {
      const { error } = await readUntilError(
        chunked(message.subarray(0, end), [64]).pipeThrough(
          decryptStream(keyring),
        ),
      );
      assert.equal(error?.name, "InvalidCiphertextException", `cut at ${end}`);
    }
  });

  await t.step(
    "signed: a bad signature errors at the end; unsignedOnly refuses",
    async () => {
      const plaintext = pattern(300);
      const message = await encryptMessage(keyring, plaintext, {
        keyIds: [arnA],
        frameLength: 100,
        signed: true,
      });
      const altered = message.slice();
      altered[altered.length - 5] ^= 1; // in the signature
      await assert.rejects(decryptMessage(keyring, altered), {
        name: "InvalidCiphertextException",
      });
      const { chunks, error } = await readUntilError(
        chunked(altered, [64]).pipeThrough(decryptStream(keyring)),
      );
      assert.equal(error?.name, "InvalidCiphertextException");
      assert.equal(
        chunks.reduce((n, c) => n + c.length, 0),
        300,
        "frames verified, then the end failed",
      );
      const refused = await readUntilError(
        chunked(message, [64]).pipeThrough(
          decryptStream(keyring, { unsignedOnly: true }),
        ),
      );
      assert.equal(refused.chunks.length, 0);
      assert.equal(refused.error?.name, "InvalidCiphertextException");
    },
  );

  await t.step(
    "back-pressure: a reader that waits stops the source",
    async () => {
      let pulls = 0;
      const source = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulls++;
          controller.enqueue(pattern(65_536));
        },
      }, { highWaterMark: 1 });
      const encrypted = source.pipeThrough(
        encryptStream(keyring, { keyIds: [arnA] }),
      );
      const reader = encrypted.getReader();
      await reader.read();
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(pulls <= 4, `${pulls} chunks pulled with no reader`);
      await reader.cancel();
    },
  );

  await t.step(
    "64 MiB through encrypt and decrypt in bounded memory",
    async () => {
      const total = 64 << 20;
      const chunk = pattern(1 << 20);
      let sent = 0;
      const source = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === total) return controller.close();
          controller.enqueue(chunk.slice());
          sent += chunk.length;
        },
      });
      const before = Deno.memoryUsage().rss;
      let peak = before, received = 0;
      await source
        .pipeThrough(encryptStream(keyring, { keyIds: [arnA] }))
        .pipeThrough(decryptStream(keyring))
        .pipeTo(
          new WritableStream({
            write(part) {
              assert.equal(part[0], chunk[received % chunk.length]);
              received += part.length;
              if ((received & 0xfffff) === 0) {
                peak = Math.max(peak, Deno.memoryUsage().rss);
              }
            },
          }),
        );
      assert.equal(received, total);
      const growth = (peak - before) / (1 << 20);
      assert.ok(growth < 64, `RSS grew by ${growth.toFixed(1)} MiB`);
    },
  );
});

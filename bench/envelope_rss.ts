/**
 * RSS growth of a 1 GiB streamed envelope encrypt piped into a decrypt, in
 * one process with okms's keys, against the bound of 64 MiB. Too
 * slow for `deno task bench`; run it alone:
 *
 * ```sh
 * deno run --allow-ffi --allow-env --allow-read --allow-write bench/envelope_rss.ts [GiB]
 * ```
 * @module
 */
import {
  decryptStream,
  encryptStream,
  okmsKeyring,
} from "../lib/envelope/mod.ts";
import { openBenchFixture } from "./fixture.ts";

const MIB = 1 << 20;
const gib = Number(Deno.args[0] ?? "1");

/**
 * The highest RSS seen, sampled every 10 ms (Deno reads `/proc/self`'s
 * `VmHWM` only with all permissions).
 */
function rssSampler(): { peak(): number; stop(): void } {
  let peak = Deno.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, Deno.memoryUsage().rss);
  }, 10);
  return {
    peak: () => Math.max(peak, Deno.memoryUsage().rss),
    stop: () => clearInterval(timer),
  };
}

const fixture = await openBenchFixture();
try {
  const { okms, key } = fixture.modes.wrapped;
  const keyring = okmsKeyring(okms);
  const chunk = new Uint8Array(MIB).fill(7);
  let left = gib * 1024;
  let out = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (left-- === 0) controller.close();
      else controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
  const before = Deno.memoryUsage().rss;
  const sampler = rssSampler();
  const started = performance.now();
  await source
    .pipeThrough(encryptStream(keyring, { keyIds: [key.arn] }))
    .pipeThrough(decryptStream(keyring))
    .pipeTo(
      new WritableStream({ write: (part) => void (out += part.byteLength) }),
    );
  const seconds = (performance.now() - started) / 1000;
  if (out !== gib * 1024 * MIB) throw new Error(`${out} bytes came out`);
  sampler.stop();
  const peak = sampler.peak();
  const growth = (peak - before) / MIB;
  console.log(
    `${gib} GiB encrypted and decrypted, streamed, in ${
      seconds.toFixed(1)
    } s: ` +
      `sampled peak RSS grew by ${growth.toFixed(1)} MiB (bound: 64 MiB; peak ${
        (peak / MIB).toFixed(1)
      } MiB)`,
  );
} finally {
  fixture.close();
}

/**
 * Envelope encryption throughput: AWS Encryption SDK messages (4 KiB
 * frames, data keys from okms in process) over 1 MiB in memory and 256 MiB
 * streamed, each group against the runtime's raw WebCrypto AES-256-GCM over
 * the same data in the same 4 KiB frames (the baseline; the target is 80%
 * of it). Prints MB/s of each at the end, and `openssl speed -evp
 * aes-256-gcm` on 4 KiB blocks first as the machine's limit when openssl is
 * there. Run with `deno task bench`.
 * @module
 */
import {
  decryptMessage,
  decryptStream,
  encryptMessage,
  encryptStream,
  okmsKeyring,
} from "../lib/envelope/mod.ts";
import { openBenchFixture } from "./fixture.ts";

const MIB = 1 << 20;
const FRAME = 4096;
/** Iterations and warmup: 1 MiB in memory, 256 MiB streamed. */
const RUNS = {
  1: { n: 100, warmup: 10 },
  256: { n: 3, warmup: 1 },
} as const;

const fixture = await openBenchFixture();
const { okms, key } = fixture.modes.wrapped;
const keyring = okmsKeyring(okms);
const options = {
  keyIds: [key.arn],
  encryptionContext: { purpose: "benchmark" },
  frameLength: FRAME,
};
const chunk = new Uint8Array(MIB);
for (let at = 0; at < MIB; at += 65536) {
  crypto.getRandomValues(chunk.subarray(at, at + 65536));
}
const oneMib = await encryptMessage(keyring, chunk, options);

/** MB/s by bench name, from the time each body took. */
const totals = new Map<string, { bytes: number; ms: number }>();
globalThis.addEventListener("unload", () => {
  console.log("\nenvelope throughput (MB/s = 10^6 bytes per second):");
  for (const [name, { bytes, ms }] of totals) {
    console.log(`  ${name.padEnd(64)} ${(bytes / 1e3 / ms).toFixed(1)} MB/s`);
  }
  fixture.close();
});

/** A bench whose body handles `mib` MiB, timed for the MB/s table. */
function bench(
  group: string,
  name: string,
  mib: 1 | 256,
  fn: () => Promise<unknown>,
  baseline = false,
): void {
  const record = { bytes: 0, ms: 0 };
  totals.set(`${group}: ${name}`, record);
  Deno.bench({
    name,
    group,
    baseline,
    ...RUNS[mib],
    async fn() {
      const start = performance.now();
      await fn();
      record.ms += performance.now() - start;
      record.bytes += mib * MIB;
    },
  });
}

/** `mib` MiB, the same random MiB over and over, as a stream. */
function plaintextStream(mib: number): ReadableStream<Uint8Array> {
  let left = mib;
  return new ReadableStream({
    pull(controller) {
      if (left-- === 0) controller.close();
      else controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
}

const discard = () => new WritableStream<Uint8Array>();

const raw = await crypto.subtle.generateKey(
  { name: "AES-GCM", length: 256 },
  false,
  ["encrypt", "decrypt"],
);
/** A counter IV per frame, as the message format's frames have. */
function frameIv(n: number): Uint8Array<ArrayBuffer> {
  const iv = new Uint8Array(12);
  new DataView(iv.buffer).setUint32(8, n);
  return iv;
}
const sealedFrames: ArrayBuffer[] = [];
for (let at = 0, n = 0; at < MIB; at += FRAME, n++) {
  sealedFrames.push(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: frameIv(n) },
      raw,
      chunk.subarray(at, at + FRAME),
    ),
  );
}

/**
 * Raw AES-256-GCM over `mib` MiB in 4 KiB frames, one call per frame, a
 * MiB's frames in flight at once (the runtime at its fastest).
 */
async function rawFrames(mib: number, decrypt: boolean): Promise<void> {
  for (let m = 0; m < mib; m++) {
    await Promise.all(sealedFrames.map((sealed, n) => {
      const params = { name: "AES-GCM", iv: frameIv(n) };
      return decrypt
        ? crypto.subtle.decrypt(params, raw, sealed)
        : crypto.subtle.encrypt(
          params,
          raw,
          chunk.subarray(n * FRAME, (n + 1) * FRAME),
        );
    }));
  }
}

/** The 256 MiB message, kept in its chunks, to stream into decryption. */
const bigMessage: Uint8Array[] = [];
await plaintextStream(256).pipeThrough(encryptStream(keyring, options)).pipeTo(
  new WritableStream({ write: (part) => void bigMessage.push(part) }),
);

await printOpensslSpeed();

for (const mib of [1, 256] as const) {
  const size = mib === 1 ? "1 MiB" : "256 MiB streamed";
  bench(
    `encrypt ${size}`,
    "raw WebCrypto AES-256-GCM, 4 KiB frames",
    mib,
    () => rawFrames(mib, false),
    true,
  );
  bench(
    `encrypt ${size}`,
    "envelope message, 4 KiB frames",
    mib,
    () =>
      mib === 1
        ? encryptMessage(keyring, chunk, options)
        : plaintextStream(mib).pipeThrough(encryptStream(keyring, options))
          .pipeTo(discard()),
  );
  bench(
    `decrypt ${size}`,
    "raw WebCrypto AES-256-GCM, 4 KiB frames",
    mib,
    () => rawFrames(mib, true),
    true,
  );
  bench(
    `decrypt ${size}`,
    "envelope message, 4 KiB frames",
    mib,
    () =>
      mib === 1
        ? decryptMessage(keyring, oneMib)
        : ReadableStream.from(bigMessage).pipeThrough(decryptStream(keyring))
          .pipeTo(discard()),
  );
}

/** `openssl speed -evp aes-256-gcm` on 4 KiB blocks, if openssl is there. */
async function printOpensslSpeed(): Promise<void> {
  try {
    const out = await new Deno.Command("openssl", {
      args: ["speed", "-evp", "aes-256-gcm", "-bytes", "4096", "-seconds", "2"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const table = new TextDecoder().decode(out.stdout).trim().split("\n");
    console.log(
      `the machine's limit, openssl speed -evp aes-256-gcm (one core, kB = 1000 bytes):\n${
        table.slice(-2).join("\n")
      }`,
    );
  } catch (error) {
    console.log(
      error instanceof Deno.errors.NotCapable
        ? "openssl speed not run: it needs --allow-run"
        : "openssl is not here: no machine limit to show",
    );
  }
}

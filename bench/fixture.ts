/**
 * The benchmarks' fixture: okms on a fresh temporary data directory (and so
 * a fresh embedded SoftHSM2 token of its own), a CMK to work with, and a
 * second logged-in session on that token for the raw `ffi/` floor.
 * @module
 */
import { Okms, type OkmsKey } from "../mod.ts";
import { findPkcs11Module } from "../ffi/mod.ts";
import { EMBEDDED_TOKEN_LABEL } from "../lib/embedded_token.ts";
import { Hsm } from "../lib/hsm.ts";

/** An open okms, one of its CMKs and a floor session on the same token. */
export interface BenchFixture {
  /** okms, opened on {@linkcode BenchFixture.dataDir}. */
  readonly okms: Okms;
  /** The temporary data directory: token, PIN file and database. */
  readonly dataDir: string;
  /** A fresh CMK of the default account. */
  readonly key: OkmsKey;
  /** A second logged-in session on okms's token, for the `ffi/` floor. */
  readonly floorHsm: Hsm;
  /** Closes the floor session and okms, and removes the data directory. */
  close(): void;
}

/**
 * Opens okms on a fresh temporary data directory, creates a CMK, and opens
 * a second session on the embedded token with the PIN okms stored. The
 * module is opened after okms so that `SOFTHSM2_CONF` already points at the
 * new token; in-process it is shared (and refcounted) with okms's session.
 *
 * @example
 * ```ts
 * const fixture = await openBenchFixture();
 * globalThis.addEventListener("unload", () => fixture.close());
 * ```
 */
export async function openBenchFixture(): Promise<BenchFixture> {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-bench-" });
  let okms: Okms | undefined;
  try {
    okms = await Okms.open({ dataDir });
    const key = await okms.createKey({ description: "benchmarks" });
    const pin = new TextEncoder().encode(
      (await Deno.readTextFile(`${dataDir}/pin`)).trim(),
    );
    const floorHsm = Hsm.open({
      modulePath: findPkcs11Module(okms.config.modulePaths),
      tokenLabel: EMBEDDED_TOKEN_LABEL,
      pin,
    });
    return fixture(okms, dataDir, key, floorHsm);
  } catch (error) {
    await okms?.close();
    await Deno.remove(dataDir, { recursive: true });
    throw error;
  }
}

function fixture(
  okms: Okms,
  dataDir: string,
  key: OkmsKey,
  floorHsm: Hsm,
): BenchFixture {
  let closed = false;
  return {
    okms,
    dataDir,
    key,
    floorHsm,
    close() {
      if (closed) return;
      closed = true;
      try {
        floorHsm.close();
        // Okms.close is synchronous underneath; unload handlers cannot wait.
        void okms.close();
      } finally {
        Deno.removeSync(dataDir, { recursive: true });
      }
    },
  };
}

/**
 * The benchmarks' fixture: okms in each key material mode on one fresh
 * embedded SoftHSM2 token (wrapped mode on a data directory that owns the
 * token; token mode on a second directory that uses the same token as an
 * external one), a CMK in each, and a second logged-in session on that
 * token for the raw `ffi/` floor.
 * @module
 */
import { Okms, type OkmsKey } from "../mod.ts";
import { findPkcs11Module } from "../ffi/mod.ts";
import { EMBEDDED_TOKEN_LABEL } from "../lib/embedded_token.ts";
import { Hsm } from "../lib/hsm.ts";
import type { KeyMaterialMode } from "../lib/metadata_store.ts";

/** okms in one mode, and one of its CMKs. */
export interface BenchOkms {
  readonly okms: Okms;
  /** A fresh CMK of the default account. */
  readonly key: OkmsKey;
}

/** okms in both modes and a floor session, all on the same token. */
export interface BenchFixture {
  /** okms by key material mode. */
  readonly modes: Readonly<Record<KeyMaterialMode, BenchOkms>>;
  /** A second logged-in session on okms's token, for the `ffi/` floor. */
  readonly floorHsm: Hsm;
  /** Closes the floor session and okms, and removes the data directories. */
  close(): void;
}

/**
 * Opens okms on two fresh temporary data directories sharing the first
 * one's embedded token, creates a CMK in each, and opens a second session
 * on that token with the PIN okms stored. The module is opened after okms
 * so that `SOFTHSM2_CONF` already points at the new token; in-process it is
 * shared (and refcounted) with okms's sessions.
 *
 * @example
 * ```ts
 * const fixture = await openBenchFixture();
 * globalThis.addEventListener("unload", () => fixture.close());
 * const { okms, key } = fixture.modes.wrapped;
 * ```
 */
export async function openBenchFixture(): Promise<BenchFixture> {
  const dirs = [
    await Deno.makeTempDir({ prefix: "okms-bench-" }),
    await Deno.makeTempDir({ prefix: "okms-bench-token-" }),
  ];
  const opened: Okms[] = [];
  const open = async (...args: Parameters<typeof Okms.open>) => {
    const okms = await Okms.open(...args);
    opened.push(okms);
    return { okms, key: await okms.createKey({ description: "benchmarks" }) };
  };
  try {
    const [dataDir, tokenDir] = dirs;
    const pinFile = `${dataDir}/pin`;
    const wrapped = await open({ dataDir, keyMaterial: "wrapped" });
    const token = await open({
      dataDir: tokenDir,
      keyMaterial: "token",
      pkcs11: { tokenLabel: EMBEDDED_TOKEN_LABEL, pinFile },
    });
    const floorHsm = Hsm.open({
      modulePath: findPkcs11Module(wrapped.okms.config.modulePaths),
      tokenLabel: EMBEDDED_TOKEN_LABEL,
      pin: new TextEncoder().encode((await Deno.readTextFile(pinFile)).trim()),
    });
    return fixture({ wrapped, token }, floorHsm, opened, dirs);
  } catch (error) {
    for (const okms of opened.reverse()) await okms.close();
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
    throw error;
  }
}

function fixture(
  modes: BenchFixture["modes"],
  floorHsm: Hsm,
  opened: Okms[],
  dirs: string[],
): BenchFixture {
  let closed = false;
  return {
    modes,
    floorHsm,
    close() {
      if (closed) return;
      closed = true;
      try {
        floorHsm.close();
        // Okms.close is synchronous underneath; unload handlers cannot wait.
        for (const okms of opened.reverse()) void okms.close();
      } finally {
        for (const dir of dirs) Deno.removeSync(dir, { recursive: true });
      }
    },
  };
}

/**
 * Keeps OpenSSL 3's exit-time cleanup from racing with exiting FFI threads.
 * @module
 */

/** `OPENSSL_INIT_NO_ATEXIT` of OpenSSL's `crypto.h`. */
const OPENSSL_INIT_NO_ATEXIT = 0x80000n;

/**
 * Tells OpenSSL 3, before any PKCS#11 module initializes it, not to register
 * its `atexit` cleanup.
 *
 * SoftHSM2's `C_Initialize` initializes OpenSSL, which would then run
 * `OPENSSL_cleanup` at `exit()`. Deno makes FFI calls on the thread of the
 * calling isolate (each test file and each Worker has its own), and OpenSSL
 * keeps state per thread that a thread-exit destructor frees. At process
 * exit those threads end while the main thread's `OPENSSL_cleanup` frees
 * every thread's state without a lock: a double free (SIGABRT, exit 134)
 * once the program is done, seen about once in a dozen test-suite runs.
 * `C_Finalize` and `dlclose` do not free that state (libcrypto is never
 * unloaded), so the cleanup must not run; the OS takes the memory back.
 * Where `libcrypto.so.3` cannot be loaded (no OpenSSL 3, or `--allow-ffi`
 * limited to the module), nothing changes.
 *
 * @example
 * ```ts
 * skipOpensslExitCleanup(); // then Deno.dlopen the module
 * ```
 */
export function skipOpensslExitCleanup(): void {
  let libcrypto;
  try {
    libcrypto = Deno.dlopen("libcrypto.so.3", {
      // int OPENSSL_init_crypto(uint64_t opts, const OPENSSL_INIT_SETTINGS *settings)
      OPENSSL_init_crypto: { parameters: ["u64", "pointer"], result: "i32" },
    });
  } catch {
    return;
  }
  try {
    libcrypto.symbols.OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, null);
  } finally {
    libcrypto.close(); // libcrypto.so.3 is NODELETE: it stays, and so does the choice
  }
}

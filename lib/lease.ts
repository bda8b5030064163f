/**
 * Leases in the shared store: one node at a time does a piece of work
 * (setting up an empty database, maintenance), and a node that dies gives
 * way when its lease runs out. Rows with an expiry rather than PostgreSQL
 * advisory locks: those belong to one connection of a pool, vanish
 * silently when it breaks, and distributed PostgreSQL-compatible databases
 * lack them.
 * @module
 */
import { KMSInternalException } from "./errors.ts";
import type { SharedStore } from "./metadata_store.ts";

/** How long a lease lasts unless renewed. */
export const LEASE_MS = 60_000;

/**
 * Runs `work` while holding lease `name`, waiting up to `waitMs` for it
 * (another node may hold it, or a dead node's lease may have to run out),
 * and gives it up afterwards.
 *
 * @throws {KMSInternalException} when the lease cannot be had in time.
 * @example
 * ```ts
 * await underLease(store, "setup", nodeId, () => createFirstAccount());
 * ```
 */
export async function underLease<T>(
  store: SharedStore,
  name: string,
  holder: string,
  work: () => Promise<T>,
  waitMs: number = LEASE_MS + 10_000,
): Promise<T> {
  const deadline = Date.now() + waitMs;
  while (!await store.takeLease(name, holder, LEASE_MS)) {
    if (Date.now() > deadline) {
      throw new KMSInternalException(
        `another okms node has held the "${name}" lease for over ${waitMs} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    return await work();
  } finally {
    // A release that fails (the database went away) must not hide what
    // `work` did or threw; the lease then runs out by itself.
    await store.releaseLease(name, holder).catch(() => {});
  }
}

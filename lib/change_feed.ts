/**
 * How a cluster node learns what the others changed: it reads the shared
 * store's feed of changes every `pollMs` and drops what they touch from its
 * caches, and it trusts its caches only while those reads succeed.
 * @module
 */
import type { Change, SharedStore } from "./metadata_store.ts";

/** What a change feed drops cached state from: the key ring. */
export interface ChangeTarget {
  /** Drops a cached key (changed or deleted elsewhere). */
  invalidate(keyId: string): void;
  /** Drops every cached alias target. */
  forgetAliases(): void;
  /** Drops every cached key and alias (after a gap in the feed). */
  invalidateAll(): void;
}

/** Changes read at a time. */
const PAGE = 500;

/**
 * A node's reader of the change feed.
 *
 * The bound: a change committed at time t is read by the first poll that
 * starts after t, so within `pollMs` plus one round trip. A node whose last
 * successful poll started more than {@linkcode ChangeFeed.boundMs} ago (the
 * database is unreachable, or slow) stops trusting its caches: every
 * request then reads the store, and fails cleanly while it is down. So
 * every node applies a change within `boundMs` (4 × `pollMs`), or refuses
 * to answer from the state it had.
 *
 * @example
 * ```ts
 * const feed = new ChangeFeed(store, 250);
 * const ring = new KeyRing(store, material, Date.now, 2 ** 30, false, feed);
 * await feed.start(ring);
 * await feed.stop();
 * ```
 */
export class ChangeFeed {
  /** How long the caches stay trusted after the start of a good poll. */
  readonly boundMs: number;
  readonly #store: SharedStore;
  readonly #pollMs: number;
  #target: ChangeTarget | undefined;
  #seq = 0;
  /** When the last successful poll started (`performance.now()`). */
  #goodSince = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #polling: Promise<void> | undefined;
  #stopped = false;

  /** A feed not yet started: nothing is trusted until {@linkcode start}. */
  constructor(store: SharedStore, pollMs: number) {
    this.#store = store;
    this.#pollMs = pollMs;
    this.boundMs = 4 * pollMs;
  }

  /**
   * Starts reading after the newest change, for `target`: call it before
   * anything is cached, so that no change can fall between the two.
   */
  async start(target: ChangeTarget): Promise<void> {
    const startedAt = performance.now();
    this.#seq = await this.#store.lastChange();
    this.#target = target;
    this.#goodSince = startedAt;
    this.#schedule();
  }

  /** Whether cached state may be used: a poll succeeded recently enough. */
  trusted(): boolean {
    return performance.now() - this.#goodSince <= this.boundMs;
  }

  /**
   * Reads and applies the changes made since the last poll; callers share
   * the read under way.
   */
  poll(): Promise<void> {
    this.#polling ??= this.#poll().finally(() => this.#polling = undefined);
    return this.#polling;
  }

  /** Stops polling, after the poll under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#polling;
  }

  async #poll(): Promise<void> {
    const startedAt = performance.now();
    for (;;) {
      const changes = await this.#store.changesSince(this.#seq, PAGE);
      this.#apply(changes);
      if (changes.length < PAGE) break;
    }
    this.#goodSince = startedAt;
  }

  #apply(changes: Change[]): void {
    for (const change of changes) {
      const target = this.#target!;
      if (change.seq !== this.#seq + 1) {
        // Pruned before this node read them: what it holds may be stale.
        target.invalidateAll();
      } else {
        if (change.keyId !== null) target.invalidate(change.keyId);
        if (change.aliasAccountId !== null) target.forgetAliases();
      }
      this.#seq = change.seq;
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.poll().catch(() => {
        // Unreachable: trust lapses after boundMs; the next poll retries.
      }).finally(() => this.#schedule());
    }, this.#pollMs);
    Deno.unrefTimer(this.#timer as unknown as number);
  }
}

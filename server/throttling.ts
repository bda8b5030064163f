/**
 * Overload, answered rather than queued: a bound on the requests in flight,
 * and an optional request-rate quota per account. Both refuse with AWS's
 * `ThrottlingException`, which AWS SDKs retry with backoff.
 * @module
 */
import { ThrottlingException } from "./errors.ts";

/**
 * At most `limit` requests at once; one more is refused at once instead of
 * waiting behind the others, so latency stays bounded under overload.
 *
 * @example
 * ```ts
 * const inFlight = new InFlightLimit(256);
 * inFlight.enter();          // throws ThrottlingException past the bound
 * try { await handle(); } finally { inFlight.leave(); }
 * ```
 */
export class InFlightLimit {
  readonly limit: number;
  #current = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Requests under way now. */
  get current(): number {
    return this.#current;
  }

  /**
   * Counts one more request in.
   *
   * @throws {ThrottlingException} when `limit` are already in flight.
   */
  enter(): void {
    if (this.#current >= this.limit) {
      throw new ThrottlingException(
        `Rate exceeded: this server is at its bound of ${this.limit} requests in flight; retry with backoff`,
        "in_flight",
      );
    }
    this.#current++;
  }

  /** Counts one request out. */
  leave(): void {
    this.#current--;
  }
}

/** One account's token bucket. */
interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date, ms. */
  at: number;
}

/**
 * A request-rate quota per account: a token bucket of `perSecond` tokens
 * a second holding at most one second's worth, so an account may burst to
 * `perSecond` requests and keeps that rate on average.
 *
 * @example
 * ```ts
 * const quota = new AccountRateLimit(100, performance.now.bind(performance));
 * quota.take("111122223333"); // throws ThrottlingException past 100/s
 * ```
 */
export class AccountRateLimit {
  readonly perSecond: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  /** `now` is a monotonic clock in milliseconds. */
  constructor(perSecond: number, now: () => number) {
    this.perSecond = perSecond;
    this.#now = now;
  }

  /**
   * Spends one request of `accountId`'s quota.
   *
   * @throws {ThrottlingException} when the account has none left this second.
   */
  take(accountId: string): void {
    const now = this.#now();
    let bucket = this.#buckets.get(accountId);
    if (bucket === undefined) {
      bucket = { tokens: this.perSecond, at: now };
      this.#buckets.set(accountId, bucket);
    }
    bucket.tokens = Math.min(
      this.perSecond,
      bucket.tokens + (now - bucket.at) * this.perSecond / 1000,
    );
    bucket.at = now;
    if (bucket.tokens < 1) {
      throw new ThrottlingException(
        `Rate exceeded: account ${accountId} may make ${this.perSecond} requests per second; retry with backoff`,
        "account_rate",
      );
    }
    bucket.tokens--;
  }
}

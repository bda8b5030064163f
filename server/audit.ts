/**
 * The audit log: one JSON line per request, to stdout or a file. It holds
 * who asked what of which key and how it ended; never plaintext, data keys,
 * ciphertext or secrets.
 * @module
 */

/** One request, as the audit log records it. */
export interface AuditRecord {
  /** When the request arrived, ISO 8601. */
  time: string;
  requestId: string;
  /** The account the request ran in, once authenticated. */
  accountId?: string;
  /** The access key the request claimed to be signed with. */
  accessKeyId?: string;
  /** The AWS operation name. */
  operation?: string;
  /** The key: the ARN the library answered with, else the one asked for. */
  keyId?: string;
  /** The encryption context (non-secret by definition, as in AWS). */
  encryptionContext?: Record<string, string>;
  outcome: "success" | "error";
  /** The `__type` sent, on error. */
  errorType?: string;
  /** The error's message, on error (messages never hold secrets). */
  errorMessage?: string;
  status: number;
  latencyMs: number;
}

const encoder = new TextEncoder();

/**
 * How much audit text (UTF-16 code units, about bytes) may wait for a stuck
 * output before new lines are dropped; one more batch may be in flight.
 */
export const MAX_QUEUED_CHARS = 32 * 1024 * 1024;
/** Lines wait at most this long for others to share their write. */
export const FLUSH_AFTER_MS = 10;
/** A batch this large is written at once. */
export const FLUSH_CHARS = 64 * 1024;

/**
 * A JSON-lines audit log. Lines are batched: one write takes every line of
 * the last {@linkcode FLUSH_AFTER_MS} ms (or {@linkcode FLUSH_CHARS}, if
 * sooner), so a busy server makes one write call per batch rather than per
 * request, and a slow disk or pipe never blocks a request. `close` writes
 * what is queued, so a graceful stop (SIGTERM) loses nothing; a `kill -9`
 * may lose the last {@linkcode FLUSH_AFTER_MS} ms.
 *
 * @example
 * ```ts
 * await using audit = await AuditLog.open(Deno.env.get("OKMS_AUDIT_LOG"));
 * audit.write(record);
 * ```
 */
export class AuditLog implements AsyncDisposable {
  readonly #out: { write(p: Uint8Array): Promise<number> };
  readonly #file?: Deno.FsFile;
  #pending: string[] = [];
  #pendingChars = 0;
  #dropped = 0;
  readonly #maxQueuedChars: number;
  #draining?: Promise<void>;
  #timer?: ReturnType<typeof setTimeout>;
  #closing = false;
  /** Whether the last write failed (its error is reported once). */
  #failing = false;

  private constructor(
    out: { write(p: Uint8Array): Promise<number> },
    file?: Deno.FsFile,
    maxQueuedChars = MAX_QUEUED_CHARS,
  ) {
    this.#out = out;
    this.#file = file;
    this.#maxQueuedChars = maxQueuedChars;
  }

  /** A log over any writer (a pipe, a socket), with a queue limit. */
  static over(
    out: { write(p: Uint8Array): Promise<number> },
    maxQueuedChars = MAX_QUEUED_CHARS,
  ): AuditLog {
    return new AuditLog(out, undefined, maxQueuedChars);
  }

  /** A log appending to `path` (created mode 0600), or stdout for `-` or none. */
  static async open(path?: string): Promise<AuditLog> {
    if (path === undefined || path === "-") return new AuditLog(Deno.stdout);
    const file = await Deno.open(path, {
      append: true,
      create: true,
      mode: 0o600,
    });
    return new AuditLog(file, file);
  }

  /**
   * Queues one record. While the output is stuck, at most
   * {@linkcode MAX_QUEUED_CHARS} of lines wait; later ones are counted, and
   * the count is logged once the output moves again, so memory stays bounded
   * and the gap is on record.
   */
  write(record: AuditRecord): void {
    const line = JSON.stringify(record) + "\n";
    if (this.#pendingChars + line.length > this.#maxQueuedChars) {
      this.#dropped++;
      return;
    }
    this.#pending.push(line);
    this.#pendingChars += line.length;
    this.#schedule();
  }

  /** Writes what is queued, then closes a log file. */
  async close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // A drain that ends schedules the next one while lines wait.
    while (this.#draining !== undefined || this.#pending.length > 0) {
      this.#draining ??= this.#drain();
      await this.#draining;
    }
    this.#file?.close();
  }

  /** As {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Starts a write now if the batch is full, else within the flush delay. */
  #schedule(): void {
    if (this.#draining !== undefined || this.#pending.length === 0) return;
    if (this.#pendingChars >= FLUSH_CHARS || this.#closing) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#draining = this.#drain();
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#draining ??= this.#drain();
      }, FLUSH_AFTER_MS);
    }
  }

  #droppedLine(count: number): string {
    if (count === 0) return "";
    return JSON.stringify({
      time: new Date().toISOString(),
      outcome: "audit-lines-dropped",
      count,
    }) + "\n";
  }

  /**
   * Writes batches while full ones are waiting (all of them when closing).
   * A batch the output refuses is counted as dropped, like lines the queue
   * had no room for, so the gap is on record once the output works again.
   */
  async #drain(): Promise<void> {
    do {
      const lines = this.#pending;
      const dropped = this.#dropped;
      const bytes = encoder.encode(lines.join("") + this.#droppedLine(dropped));
      this.#pending = [];
      this.#pendingChars = 0;
      this.#dropped = 0;
      try {
        for (let at = 0; at < bytes.length;) {
          at += await this.#out.write(bytes.subarray(at));
        }
        this.#failing = false;
      } catch (error) {
        this.#dropped += dropped + lines.length;
        if (!this.#failing) {
          console.error(`okms: the audit log cannot be written: ${error}`);
        }
        this.#failing = true;
        break;
      }
    } while (
      this.#pending.length > 0 &&
      (this.#pendingChars >= FLUSH_CHARS || this.#closing)
    );
    this.#draining = undefined;
    if (!this.#closing) this.#schedule();
  }
}

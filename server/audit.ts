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
  status: number;
  latencyMs: number;
}

const encoder = new TextEncoder();

/** Audit lines that may wait for a stuck output before new ones are dropped. */
export const MAX_QUEUED_LINES = 100_000;

/**
 * A JSON-lines audit log. Lines are queued and written in batches by one
 * writer, so a slow disk or pipe never blocks a request.
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
  #dropped = 0;
  #draining?: Promise<void>;

  private constructor(
    out: { write(p: Uint8Array): Promise<number> },
    file?: Deno.FsFile,
  ) {
    this.#out = out;
    this.#file = file;
  }

  /** A log over any writer (a pipe, a socket). */
  static over(out: { write(p: Uint8Array): Promise<number> }): AuditLog {
    return new AuditLog(out);
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
   * {@linkcode MAX_QUEUED_LINES} wait; later ones are counted, and the count
   * is logged once the output moves again, so memory stays bounded and the
   * gap is on record.
   */
  write(record: AuditRecord): void {
    if (this.#pending.length >= MAX_QUEUED_LINES) {
      this.#dropped++;
      return;
    }
    this.#pending.push(JSON.stringify(record) + "\n");
    this.#draining ??= this.#drain();
  }

  /** Writes what is queued, then closes a log file. */
  async close(): Promise<void> {
    await this.#draining;
    this.#file?.close();
  }

  /** As {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #droppedLine(): string {
    if (this.#dropped === 0) return "";
    const line = JSON.stringify({
      time: new Date().toISOString(),
      outcome: "audit-lines-dropped",
      count: this.#dropped,
    }) + "\n";
    this.#dropped = 0;
    return line;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const bytes = encoder.encode(
          this.#pending.join("") + this.#droppedLine(),
        );
        this.#pending = [];
        for (let at = 0; at < bytes.length;) {
          at += await this.#out.write(bytes.subarray(at));
        }
      }
    } catch (error) {
      console.error(`okms: the audit log cannot be written: ${error}`);
    } finally {
      this.#draining = undefined;
    }
  }
}

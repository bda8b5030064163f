/**
 * A `Deno.serve` listener that a stop ends within a grace period: requests
 * under way are given until their handler answers, then every connection is
 * closed. (`HttpServer.shutdown` alone would wait for ever on a client that
 * announced a body and never sends it, since its connection stays open.)
 * @module
 */

/**
 * A listening server and its way out.
 *
 * @example
 * ```ts
 * const listener = Listener.serve({ hostname: "127.0.0.1", port: 0 }, handler);
 * console.log(listener.url("http"));
 * await listener.stop(15_000);
 * ```
 */
export class Listener {
  readonly server: Deno.HttpServer<Deno.NetAddr>;
  readonly #abort: AbortController;
  #active = 0;
  #idle?: PromiseWithResolvers<void>;
  #stopping?: Promise<"graceful" | "forced">;

  private constructor(
    options: Deno.ServeTcpOptions & Partial<Deno.TlsCertifiedKeyPem>,
    handler: Deno.ServeHandler<Deno.NetAddr>,
  ) {
    this.#abort = new AbortController();
    this.server = Deno.serve(
      { onListen: () => {}, ...options, signal: this.#abort.signal },
      async (request, info) => {
        this.#active++;
        try {
          return await handler(request, info);
        } finally {
          if (--this.#active === 0) this.#idle?.resolve();
        }
      },
    );
  }

  /** Listens as `options` say (TLS when they hold a certificate and key). */
  static serve(
    options: Deno.ServeTcpOptions & Partial<Deno.TlsCertifiedKeyPem>,
    handler: Deno.ServeHandler<Deno.NetAddr>,
  ): Listener {
    return new Listener(options, handler);
  }

  /** Where it listens, e.g. `http://127.0.0.1:8080` (IPv6 in brackets). */
  url(scheme: "http" | "https"): string {
    const { hostname, port } = this.server.addr;
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    return `${scheme}://${host}:${port}`;
  }

  /**
   * Waits up to `graceMs` for the requests under way to be answered, then
   * closes the listener and every connection. Says whether they all were
   * answered in time. Idempotent.
   */
  stop(graceMs: number): Promise<"graceful" | "forced"> {
    this.#stopping ??= this.#stop(graceMs);
    return this.#stopping;
  }

  async #stop(graceMs: number): Promise<"graceful" | "forced"> {
    this.#idle = Promise.withResolvers<void>();
    if (this.#active === 0) this.#idle.resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<"forced">((resolve) => {
      timer = setTimeout(() => resolve("forced"), graceMs);
    });
    try {
      return await Promise.race([
        this.#idle.promise.then(() => "graceful" as const),
        grace,
      ]);
    } finally {
      clearTimeout(timer);
      this.#abort.abort();
      await this.server.finished;
    }
  }
}

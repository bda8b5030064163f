/**
 * Frames are independent AES-GCM calls, which WebCrypto runs as async
 * ops: one at a time, each waited for, runs at a quarter of the speed of
 * several in flight. A window of them, the next starting as the oldest
 * ends (across a stream's chunks too), keeps the speed without queueing a
 * whole large input's worth of work (and copies) at once.
 * @module
 */

/** How many frames are encrypted or decrypted at once, at most. */
const FRAMES_AT_ONCE = 16;

/**
 * Frames' work in flight, its results handed on in order, each as soon as
 * it and all before it are done; after a failure nothing more is handed
 * on, and the error is thrown by the next {@linkcode add} or
 * {@linkcode drain} that waits on it.
 */
export class FramePipeline<R> {
  readonly #handOn: (result: R) => void;
  readonly #inFlight: Promise<void>[] = [];
  #last: Promise<void> = Promise.resolve();

  constructor(handOn: (result: R) => void) {
    this.#handOn = handOn;
  }

  /** Queues `work`'s result; waits while too many frames are in flight. */
  async add(work: Promise<R>): Promise<void> {
    const handedOn = Promise.all([this.#last, work]).then(([, result]) =>
      this.#handOn(result)
    );
    // Its error is thrown where it is waited on, or where a later one is.
    handedOn.catch(() => {});
    this.#last = handedOn;
    this.#inFlight.push(handedOn);
    if (this.#inFlight.length > FRAMES_AT_ONCE) await this.#inFlight.shift();
  }

  /** Waits until every result is handed on. */
  async drain(): Promise<void> {
    this.#inFlight.length = 0;
    await this.#last;
  }
}

/**
 * A progress line for long streams: bytes so far and the rate, rewritten
 * in place on stderr every second, only when stderr is a terminal.
 * @module
 */

const MIB = 1024 * 1024;

/** A counting pass-through and the timer that reports its count. */
export interface ProgressMeter extends Disposable {
  /** Passes chunks on unchanged, counting their bytes. */
  counter: TransformStream<Uint8Array, Uint8Array>;
}

/**
 * A meter that writes `okms envelope: 512.0 MiB, 310.2 MiB/s` to `stderr`
 * every second while it lives (nothing when `stderr` is no terminal, and
 * nothing for a stream done within the first second); disposing it ends the
 * line.
 *
 * @example
 * ```ts
 * using meter = progressMeter(Deno.stderr);
 * await Deno.stdin.readable.pipeThrough(meter.counter).pipeTo(Deno.stdout.writable);
 * ```
 */
export function progressMeter(
  stderr: { isTerminal(): boolean; writeSync(bytes: Uint8Array): number },
): ProgressMeter {
  let bytes = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  if (!stderr.isTerminal()) {
    return { counter, [Symbol.dispose]() {} };
  }
  const encoder = new TextEncoder();
  const started = performance.now();
  let shown = false;
  const timer = setInterval(() => {
    const seconds = (performance.now() - started) / 1000;
    const line = `okms envelope: ${(bytes / MIB).toFixed(1)} MiB, ${
      (bytes / MIB / seconds).toFixed(1)
    } MiB/s`;
    stderr.writeSync(encoder.encode(`\r\x1b[K${line}`));
    shown = true;
  }, 1000);
  return {
    counter,
    [Symbol.dispose]() {
      clearInterval(timer);
      if (shown) stderr.writeSync(encoder.encode("\n"));
    },
  };
}

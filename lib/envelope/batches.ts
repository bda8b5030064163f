/**
 * Frames are independent AES-GCM calls, which WebCrypto runs off the main
 * thread: a few at once keep the cores busy, without queueing a whole
 * large input's worth of work (and copies) at once.
 * @module
 */

/** How many frames are encrypted or decrypted at once. */
const FRAMES_AT_ONCE = 16;

/**
 * `work` on every item, a batch at a time, results in order. `work` is
 * called in order (so it may number the items).
 */
export async function inBatches<T, R>(
  items: readonly T[],
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += FRAMES_AT_ONCE) {
    const batch = items.slice(i, i + FRAMES_AT_ONCE).map(work);
    results.push(...await Promise.all(batch));
  }
  return results;
}

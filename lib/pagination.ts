/**
 * Opaque pagination markers, as AWS's `Marker`/`NextMarker`.
 * @module
 */
import { InvalidMarkerException } from "./errors.ts";

/** A marker for a position: base64url of its JSON. */
export function encodeMarker(position: unknown): string {
  return new TextEncoder().encode(JSON.stringify(position)).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
}

/**
 * The position a marker holds, checked by `isPosition`.
 *
 * @throws {InvalidMarkerException} for anything okms did not hand out.
 * @example
 * ```ts
 * const after = decodeMarker(marker, (v): v is string => typeof v === "string");
 * ```
 */
export function decodeMarker<T>(
  marker: unknown,
  isPosition: (value: unknown) => value is T,
): T {
  try {
    const value: unknown = JSON.parse(
      new TextDecoder().decode(
        Uint8Array.fromBase64(String(marker), { alphabet: "base64url" }),
      ),
    );
    if (isPosition(value)) return value;
  } catch {
    // reported below
  }
  throw new InvalidMarkerException("the marker is not one okms returned");
}

/** A page of `limit` items from `limit + 1` fetched, with its next marker. */
export function page<Item>(
  fetched: Item[],
  limit: number,
  positionOf: (item: Item) => unknown,
): { items: Item[]; truncated: boolean; nextMarker?: string } {
  const truncated = fetched.length > limit;
  const items = fetched.slice(0, limit);
  return truncated
    ? { items, truncated, nextMarker: encodeMarker(positionOf(items.at(-1)!)) }
    : { items, truncated };
}

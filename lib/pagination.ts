/**
 * Opaque pagination markers, as AWS's `Marker`/`NextMarker`.
 * @module
 */
import { InvalidMarkerException } from "./errors.ts";
import { requireInteger } from "./validation.ts";

/** A marker for a position: base64url of its JSON. */
function encodeMarker(position: unknown): string {
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
function decodeMarker<T>(
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

/** A position that is a string (a name or tag key). */
export function isString(value: unknown): value is string {
  return typeof value === "string";
}

/**
 * A listing's `Limit` (`defaultLimit` when absent, else 1..`maxLimit`) and
 * the position its `Marker` holds (`undefined` when absent).
 *
 * @example
 * ```ts
 * const { limit, after } = pageRequest(input, 50, 100, isString);
 * ```
 */
export function pageRequest<T>(
  input: { limit?: unknown; marker?: unknown } | undefined,
  defaultLimit: number,
  maxLimit: number,
  isPosition: (value: unknown) => value is T,
): { limit: number; after: T | undefined } {
  const limit = input?.limit === undefined
    ? defaultLimit
    : requireInteger("Limit", input.limit, 1, maxLimit);
  const after = input?.marker === undefined
    ? undefined
    : decodeMarker(input.marker, isPosition);
  return { limit, after };
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

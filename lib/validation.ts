/**
 * Input checks shared by the operations: each throws a
 * {@linkcode ValidationException} that names the member and the rule.
 * @module
 */
import {
  LimitExceededException,
  TagException,
  ValidationException,
} from "./errors.ts";
import type { Tag } from "./metadata_store.ts";

/** A day in milliseconds (waiting periods and rotation periods are in days). */
export const DAY_MS = 86_400_000;

/** A `Uint8Array` of `min..max` bytes, else a ValidationException. */
export function requireBytes(
  name: string,
  value: unknown,
  min: number,
  max: number,
): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new ValidationException(`${name} is required and must be bytes`);
  }
  if (value.byteLength < min || value.byteLength > max) {
    throw new ValidationException(
      `${name} must be ${min} to ${max} bytes long, not ${value.byteLength}`,
    );
  }
  return value;
}

/** An integer in `min..max`, else a ValidationException. */
export function requireInteger(
  name: string,
  value: unknown,
  min: number,
  max: number,
): number {
  if (
    !Number.isInteger(value) || (value as number) < min ||
    (value as number) > max
  ) {
    throw new ValidationException(
      `${name} must be an integer from ${min} to ${max}`,
    );
  }
  return value as number;
}

/** A string of `min..max` characters, else a ValidationException. */
export function requireString(
  name: string,
  value: unknown,
  min: number,
  max: number,
): string {
  if (typeof value !== "string" || value.length < min || value.length > max) {
    throw new ValidationException(
      `${name} must be a string of ${min} to ${max} characters`,
    );
  }
  return value;
}

/** `value` when it is one of `allowed`, else a ValidationException. */
export function requireOneOf<T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T)) {
    throw new ValidationException(
      `${name} must be one of ${allowed.join(", ")}`,
    );
  }
  return value as T;
}

/** The most tags a key may carry, as AWS. */
export const MAX_TAGS_PER_KEY = 50;

function tagText(name: string, value: unknown, min: number, max: number) {
  if (typeof value !== "string" || value.length < min || value.length > max) {
    throw new TagException(
      `${name} must be a string of ${min} to ${max} characters`,
    );
  }
  return value;
}

/**
 * Validates tags as AWS: key 1..128 characters not starting with `aws:`,
 * value 0..256, no key twice, at most {@linkcode MAX_TAGS_PER_KEY}.
 */
export function requireTags(value: unknown): Tag[] {
  if (!Array.isArray(value)) {
    throw new ValidationException("Tags must be a list of TagKey/TagValue");
  }
  if (value.length > MAX_TAGS_PER_KEY) {
    throw new LimitExceededException(
      `a key carries at most ${MAX_TAGS_PER_KEY} tags`,
    );
  }
  const seen = new Set<string>();
  return value.map((tag) => {
    const tagKey = tagText("TagKey", tag?.tagKey, 1, 128);
    const tagValue = tagText("TagValue", tag?.tagValue, 0, 256);
    if (tagKey.startsWith("aws:")) {
      throw new TagException("TagKey must not begin with aws:");
    }
    if (seen.has(tagKey)) {
      throw new TagException(`TagKey ${tagKey} appears twice`);
    }
    seen.add(tagKey);
    return { tagKey, tagValue };
  });
}

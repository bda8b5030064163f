/**
 * Tags: TagResource, UntagResource, ListResourceTags.
 * @module
 */
import type { AccountScope } from "../account_scope.ts";
import { LimitExceededException, ValidationException } from "../errors.ts";
import type { Tag } from "../metadata_store.ts";
import { isString, page, pageRequest } from "../pagination.ts";
import { MAX_TAGS_PER_KEY, requireTags } from "../validation.ts";
import type { KeyIdInput } from "./keys.ts";

/** ListResourceTags' input. */
export interface ListResourceTagsInput extends KeyIdInput {
  /** 1 to 50; 50 when absent. */
  limit?: number;
  marker?: string;
}

/** ListResourceTags' output. */
export interface ListResourceTagsOutput {
  tags: Tag[];
  nextMarker?: string;
  truncated: boolean;
}

/** Adds tags to a key; a tag whose key exists replaces its value. */
export async function tagResource(
  scope: AccountScope,
  input: KeyIdInput & { tags: Tag[] },
): Promise<void> {
  const added = requireTags(input?.tags);
  const key = await scope.keyNotAlias(input.keyId, "TagResource");
  const merged = new Map(key.record.tags.map((t) => [t.tagKey, t.tagValue]));
  for (const { tagKey, tagValue } of added) merged.set(tagKey, tagValue);
  if (merged.size > MAX_TAGS_PER_KEY) {
    throw new LimitExceededException(
      `a key carries at most ${MAX_TAGS_PER_KEY} tags`,
    );
  }
  await scope.update(key, "TagResource", {
    tags: [...merged].map(([tagKey, tagValue]) => ({ tagKey, tagValue })),
  });
}

/** Removes tags by key; a key the key does not carry is no error. */
export async function untagResource(
  scope: AccountScope,
  input: KeyIdInput & { tagKeys: string[] },
): Promise<void> {
  const tagKeys = input?.tagKeys;
  if (!Array.isArray(tagKeys) || tagKeys.some((k) => typeof k !== "string")) {
    throw new ValidationException("TagKeys must be a list of strings");
  }
  const key = await scope.keyNotAlias(input.keyId, "UntagResource");
  const removed = new Set(tagKeys);
  await scope.update(key, "UntagResource", {
    tags: key.record.tags.filter((t) => !removed.has(t.tagKey)),
  });
}

/** A key's tags in tag-key order, a page at a time. */
export async function listResourceTags(
  scope: AccountScope,
  input: ListResourceTagsInput,
): Promise<ListResourceTagsOutput> {
  const { limit, after = "" } = pageRequest(input, 50, 50, isString);
  const key = await scope.keyNotAlias(input.keyId, "ListResourceTags");
  const sorted = key.record.tags.filter((t) => t.tagKey > after)
    .sort((a, b) => a.tagKey < b.tagKey ? -1 : 1);
  const { items, ...rest } = page(
    sorted.slice(0, limit + 1),
    limit,
    (t) => t.tagKey,
  );
  return { tags: items, ...rest };
}

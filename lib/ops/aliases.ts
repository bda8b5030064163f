/**
 * Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases.
 * @module
 */
import type { AccountScope } from "../account_scope.ts";
import {
  AlreadyExistsException,
  InvalidAliasNameException,
  LimitExceededException,
  NotFoundException,
  ValidationException,
} from "../errors.ts";
import { aliasArn } from "../key_id.ts";
import {
  type AliasRecord,
  NameTakenError,
  QuotaReachedError,
} from "../metadata_store.ts";
import { isString, page, pageRequest } from "../pagination.ts";

/** CreateAlias' and UpdateAlias' input. */
export interface AliasInput {
  /** `alias/` then letters, digits, `:/_-`; 1 to 256 characters in all. */
  aliasName: string;
  /** Key id or key ARN (not an alias). */
  targetKeyId: string;
}

/** An alias as ListAliases returns it. */
export interface AliasListEntry {
  aliasName: string;
  aliasArn: string;
  /** The key id the alias names. */
  targetKeyId: string;
  creationDate: Date;
  lastUpdatedDate: Date;
}

/** ListAliases' input. */
export interface ListAliasesInput {
  /** Only this key's aliases (key id or key ARN). */
  keyId?: string;
  /** 1 to 100; 50 when absent. */
  limit?: number;
  marker?: string;
}

/** ListAliases' output. */
export interface ListAliasesOutput {
  aliases: AliasListEntry[];
  nextMarker?: string;
  truncated: boolean;
}

/** The most aliases one key may have, as AWS. */
export const MAX_ALIASES_PER_KEY = 50;
const ALIAS_NAME = /^alias\/[a-zA-Z0-9:/_-]+$/;

function aliasName(value: unknown): string {
  if (
    typeof value !== "string" || value.length > 256 || !ALIAS_NAME.test(value)
  ) {
    throw new ValidationException(
      "AliasName must be alias/ followed by letters, digits, colons, slashes, underscores or dashes, 256 characters at most",
    );
  }
  if (value.startsWith("alias/aws/")) {
    throw new InvalidAliasNameException(
      "alias names beginning with alias/aws/ are reserved",
    );
  }
  return value;
}

async function write(
  scope: AccountScope,
  input: AliasInput,
  store: (record: AliasRecord) => Promise<void>,
  operation: "CreateAlias" | "UpdateAlias",
): Promise<void> {
  const name = aliasName(input?.aliasName);
  scope.assertOwner(operation);
  const key = await scope.keyNotAlias(input.targetKeyId, operation);
  const now = scope.kms.now();
  try {
    await store({
      accountId: scope.accountId,
      aliasName: name,
      keyId: key.record.keyId,
      createdAt: now,
      updatedAt: now,
    });
  } catch (error) {
    if (error instanceof NameTakenError) {
      throw new AlreadyExistsException(`${name} exists already`);
    }
    if (error instanceof QuotaReachedError) {
      throw new LimitExceededException(
        `${scope.arn(key)} has ${MAX_ALIASES_PER_KEY} aliases already`,
      );
    }
    throw error;
  } finally {
    scope.kms.ring.forgetAliases();
  }
}

/** Names a key with an alias unique in the account. */
export function createAlias(
  scope: AccountScope,
  input: AliasInput,
): Promise<void> {
  const store = scope.kms.ring.store;
  return write(
    scope,
    input,
    (alias) => store.createAlias(alias, MAX_ALIASES_PER_KEY),
    "CreateAlias",
  );
}

/** Points an existing alias at another key of the account. */
export function updateAlias(
  scope: AccountScope,
  input: AliasInput,
): Promise<void> {
  const store = scope.kms.ring.store;
  return write(scope, input, async (alias) => {
    if (await store.getAlias(alias.accountId, alias.aliasName) === undefined) {
      throw new NotFoundException(`${alias.aliasName} does not exist`);
    }
    await store.updateAlias(alias, MAX_ALIASES_PER_KEY);
  }, "UpdateAlias");
}

/** Deletes an alias (the key is untouched). */
export async function deleteAlias(
  scope: AccountScope,
  input: { aliasName: string },
): Promise<void> {
  const name = aliasName(input?.aliasName);
  scope.assertOwner("DeleteAlias");
  const deleted = await scope.kms.ring.store.deleteAlias(scope.accountId, name);
  scope.kms.ring.forgetAliases();
  if (!deleted) throw new NotFoundException(`${name} does not exist`);
}

/** The account's aliases by name, or one key's, a page at a time. */
export async function listAliases(
  scope: AccountScope,
  input: ListAliasesInput = {},
): Promise<ListAliasesOutput> {
  const { limit, after = "" } = pageRequest(input, 50, 100, isString);
  const keyId = input.keyId === undefined
    ? undefined
    : (await scope.keyNotAlias(input.keyId, "DescribeKey")).record.keyId;
  const fetched = await scope.kms.ring.store.listAliases(
    scope.accountId,
    keyId,
    after,
    limit + 1,
  );
  const { items, ...rest } = page(fetched, limit, (alias) => alias.aliasName);
  return {
    aliases: items.map((alias) => ({
      aliasName: alias.aliasName,
      aliasArn: aliasArn(scope.kms.region, alias.accountId, alias.aliasName),
      targetKeyId: alias.keyId,
      creationDate: new Date(alias.createdAt),
      lastUpdatedDate: new Date(alias.updatedAt),
    })),
    ...rest,
  };
}

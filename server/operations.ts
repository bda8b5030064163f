/**
 * The operations the server offers, by AWS name: each decodes its JSON
 * input into the library's camelCase input and runs it in the caller's
 * account. Adding an operation is adding one entry to {@linkcode OPERATIONS}.
 * @module
 */
import {
  KEY_PAIR_SPECS,
  MAC_ALGORITHMS,
  type OkmsAccount,
  SIGNING_ALGORITHMS,
} from "../mod.ts";
import { UnknownOperationException } from "./errors.ts";
import {
  blob,
  type Decoder,
  integer,
  list,
  oneOf,
  optional,
  required,
  string,
  stringMap,
  structure,
} from "./wire.ts";

/**
 * One operation. `run`'s result is sent through {@linkcode toWire}; when it
 * is `Disposable` it is disposed once encoded (so plaintext is wiped).
 */
export interface Operation {
  /** Decodes the JSON request object into the library's input. */
  readonly decode: Decoder<object>;
  /** Runs the decoded input in the caller's account. */
  readonly run: (account: OkmsAccount, input: object) => Promise<unknown>;
}

/**
 * Pairs a typed input decoder with the function that runs it.
 *
 * @example
 * ```ts
 * const describeKey = operation(
 *   structure({ KeyId: required(string) }),
 *   async (account, input) => ({ keyMetadata: await account.describeKey(input) }),
 * );
 * ```
 */
export function operation<I extends object>(
  decode: Decoder<I>,
  run: (account: OkmsAccount, input: I) => Promise<unknown>,
): Operation {
  return { decode, run: run as Operation["run"] };
}

/** `output`, whose `plaintext` is zeroed when it is disposed. */
function wipingPlaintext<T extends { plaintext: Uint8Array }>(
  output: T,
): T & Disposable {
  return Object.assign(output, {
    [Symbol.dispose]: () => output.plaintext.fill(0),
  });
}

/** `output`, which `wipe` wipes when it is disposed. */
function wipedBy<T extends object>(
  output: T,
  wipe: () => void,
): T & Disposable {
  return Object.assign(output, { [Symbol.dispose]: wipe });
}

const ALGORITHM = optional(oneOf("SYMMETRIC_DEFAULT"));
const ENCRYPTION_ALGORITHM = optional(
  oneOf("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"),
);
const CONTEXT = optional(stringMap);

const KEY_ID = structure({ KeyId: required(string) });
const TAGS = list(structure({
  TagKey: required(string),
  TagValue: required(string),
}));
const ALIAS = structure({
  AliasName: required(string),
  TargetKeyId: required(string),
});
const PAGE_OF_KEY = structure({
  KeyId: required(string),
  Limit: optional(integer),
  Marker: optional(string),
});

const DATA_KEY_INPUT = structure({
  KeyId: required(string),
  KeySpec: optional(oneOf("AES_128", "AES_256")),
  NumberOfBytes: optional(integer),
  EncryptionContext: CONTEXT,
});
const DATA_KEY_PAIR_INPUT = structure({
  KeyId: required(string),
  KeyPairSpec: required(oneOf(...KEY_PAIR_SPECS)),
  EncryptionContext: CONTEXT,
});

const SIGNING_INPUT = {
  KeyId: required(string),
  Message: required(blob),
  MessageType: optional(oneOf("RAW", "DIGEST")),
  SigningAlgorithm: required(oneOf(...SIGNING_ALGORITHMS)),
};
const MAC_INPUT = {
  KeyId: required(string),
  Message: required(blob),
  MacAlgorithm: required(oneOf(...MAC_ALGORITHMS)),
};

/** Every operation, by the name after `TrentService.` in `X-Amz-Target`. */
export const OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateKey: operation(
    structure({
      Description: optional(string),
      KeyUsage: optional(string),
      KeySpec: optional(string),
      CustomerMasterKeySpec: optional(string),
      Origin: optional(string),
      Tags: optional(TAGS),
    }),
    async (account, { customerMasterKeySpec, keySpec, ...input }) => {
      const key = await account.createKey({
        ...input,
        keySpec: keySpec ?? customerMasterKeySpec,
      });
      return { keyMetadata: key.metadata };
    },
  ),
  DescribeKey: operation(
    KEY_ID,
    async (account, input) => ({
      keyMetadata: await account.describeKey(input),
    }),
  ),
  ListKeys: operation(
    structure({ Limit: optional(integer), Marker: optional(string) }),
    (account, input) => account.listKeys(input),
  ),
  Encrypt: operation(
    structure({
      KeyId: required(string),
      Plaintext: required(blob),
      EncryptionContext: CONTEXT,
      EncryptionAlgorithm: ENCRYPTION_ALGORITHM,
    }),
    async (account, input) => {
      try {
        return await account.encrypt(input);
      } finally {
        input.plaintext.fill(0); // decoded from the request: ours to wipe
      }
    },
  ),
  Decrypt: operation(
    structure({
      CiphertextBlob: required(blob),
      KeyId: optional(string),
      EncryptionContext: CONTEXT,
      EncryptionAlgorithm: ENCRYPTION_ALGORITHM,
    }),
    async (account, input) => wipingPlaintext(await account.decrypt(input)),
  ),
  GenerateDataKey: operation(DATA_KEY_INPUT, async (account, input) => {
    const dataKey = await account.generateDataKey(input);
    return wipingPlaintext({
      ciphertextBlob: dataKey.ciphertextBlob,
      plaintext: dataKey.plaintext,
      keyId: dataKey.keyId,
    });
  }),
  GenerateDataKeyWithoutPlaintext: operation(
    DATA_KEY_INPUT,
    (account, input) => account.generateDataKeyWithoutPlaintext(input),
  ),
  GenerateDataKeyPair: operation(
    DATA_KEY_PAIR_INPUT,
    async (account, input) => {
      const pair = await account.generateDataKeyPair(input);
      return wipedBy({
        keyId: pair.keyId,
        keyPairSpec: pair.keyPairSpec,
        publicKey: pair.publicKey,
        privateKeyCiphertextBlob: pair.privateKeyCiphertextBlob,
        privateKeyPlaintext: pair.privateKeyPlaintext,
      }, () => pair[Symbol.dispose]());
    },
  ),
  GenerateDataKeyPairWithoutPlaintext: operation(
    DATA_KEY_PAIR_INPUT,
    (account, input) => account.generateDataKeyPairWithoutPlaintext(input),
  ),
  DeriveSharedSecret: operation(
    structure({
      KeyId: required(string),
      KeyAgreementAlgorithm: required(oneOf("ECDH")),
      PublicKey: required(blob),
    }),
    async (account, input) => {
      const output = await account.deriveSharedSecret(input);
      return wipedBy(output, () => output.sharedSecret.fill(0));
    },
  ),
  ReEncrypt: operation(
    structure({
      CiphertextBlob: required(blob),
      SourceEncryptionContext: CONTEXT,
      SourceKeyId: optional(string),
      DestinationKeyId: required(string),
      DestinationEncryptionContext: CONTEXT,
      SourceEncryptionAlgorithm: ALGORITHM,
      DestinationEncryptionAlgorithm: ALGORITHM,
    }),
    (account, input) => account.reEncrypt(input),
  ),
  GenerateRandom: operation(
    structure({ NumberOfBytes: optional(integer) }),
    async (account, input) =>
      wipingPlaintext(
        await account.generateRandom(input as { numberOfBytes: number }),
      ),
  ),
  Sign: operation(
    structure(SIGNING_INPUT),
    (account, input) => account.sign(input),
  ),
  Verify: operation(
    structure({ ...SIGNING_INPUT, Signature: required(blob) }),
    (account, input) => account.verify(input),
  ),
  GetPublicKey: operation(
    KEY_ID,
    (account, input) => account.getPublicKey(input),
  ),
  GenerateMac: operation(
    structure(MAC_INPUT),
    (account, input) => account.generateMac(input),
  ),
  VerifyMac: operation(
    structure({ ...MAC_INPUT, Mac: required(blob) }),
    (account, input) => account.verifyMac(input),
  ),
  UpdateKeyDescription: operation(
    structure({ KeyId: required(string), Description: required(string) }),
    (account, input) => account.updateKeyDescription(input),
  ),
  EnableKey: operation(KEY_ID, (account, input) => account.enableKey(input)),
  DisableKey: operation(KEY_ID, (account, input) => account.disableKey(input)),
  ScheduleKeyDeletion: operation(
    structure({
      KeyId: required(string),
      PendingWindowInDays: optional(integer),
    }),
    (account, input) => account.scheduleKeyDeletion(input),
  ),
  CancelKeyDeletion: operation(
    KEY_ID,
    (account, input) => account.cancelKeyDeletion(input),
  ),
  CreateAlias: operation(ALIAS, (account, input) => account.createAlias(input)),
  UpdateAlias: operation(ALIAS, (account, input) => account.updateAlias(input)),
  DeleteAlias: operation(
    structure({ AliasName: required(string) }),
    (account, input) => account.deleteAlias(input),
  ),
  ListAliases: operation(
    structure({
      KeyId: optional(string),
      Limit: optional(integer),
      Marker: optional(string),
    }),
    (account, input) => account.listAliases(input),
  ),
  TagResource: operation(
    structure({ KeyId: required(string), Tags: required(TAGS) }),
    (account, input) => account.tagResource(input),
  ),
  UntagResource: operation(
    structure({ KeyId: required(string), TagKeys: required(list(string)) }),
    (account, input) => account.untagResource(input),
  ),
  ListResourceTags: operation(
    PAGE_OF_KEY,
    (account, input) => account.listResourceTags(input),
  ),
  EnableKeyRotation: operation(
    structure({
      KeyId: required(string),
      RotationPeriodInDays: optional(integer),
    }),
    (account, input) => account.enableKeyRotation(input),
  ),
  DisableKeyRotation: operation(
    KEY_ID,
    (account, input) => account.disableKeyRotation(input),
  ),
  GetKeyRotationStatus: operation(
    KEY_ID,
    (account, input) => account.getKeyRotationStatus(input),
  ),
  RotateKeyOnDemand: operation(
    KEY_ID,
    (account, input) => account.rotateKeyOnDemand(input),
  ),
  ListKeyRotations: operation(
    PAGE_OF_KEY,
    (account, input) => account.listKeyRotations(input),
  ),
};

const TARGET_PREFIX = "TrentService.";

/**
 * The operation of `table` an `X-Amz-Target` header names.
 *
 * @throws {UnknownOperationException} when it names none.
 * @example
 * ```ts
 * const { name, operation } = operationFor(OPERATIONS, "TrentService.Encrypt");
 * ```
 */
export function operationFor(
  table: Readonly<Record<string, Operation>>,
  target: string | null,
): { name: string; operation: Operation } {
  const name = target?.startsWith(TARGET_PREFIX)
    ? target.slice(TARGET_PREFIX.length)
    : undefined;
  if (name === undefined || !Object.hasOwn(table, name)) {
    throw new UnknownOperationException(
      target === null
        ? "the X-Amz-Target header is missing"
        : `${target.slice(0, 100)} is not an operation okms offers`,
    );
  }
  return { name, operation: table[name] };
}

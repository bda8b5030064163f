/**
 * Asymmetric signing operations: Sign, Verify, GetPublicKey. The private
 * key signs in the HSM; Verify checks in the HSM too, with a session public
 * key made from the stored SubjectPublicKeyInfo for the one call.
 * @module
 */
import type { AccountScope } from "../account_scope.ts";
import { SIGNING_MECHANISMS } from "../asymmetric/algorithms.ts";
import { publicKeyOf, withPublicKey } from "./public_key.ts";
import {
  KEY_SPECS,
  type KeySpec,
  type SigningAlgorithm,
} from "../asymmetric/key_specs.ts";
import {
  type MessageType,
  sign as hsmSign,
  type SigningInput,
  verify as hsmVerify,
} from "../asymmetric/signing.ts";
import {
  KMSInvalidSignatureException,
  UnsupportedOperationException,
} from "../errors.ts";
import type { LiveKey } from "../key_ring.ts";
import type { KeyMetadata } from "../key_metadata.ts";
import { requireBytes, requireOneOf } from "../validation.ts";

export type { MessageType, SigningAlgorithm };

/** Sign's input. */
export interface SignInput {
  /** Key id, key ARN, alias name or alias ARN of a SIGN_VERIFY key. */
  keyId: string;
  /** RAW: 1 to 4096 bytes; DIGEST: exactly the algorithm's hash length. */
  message: Uint8Array<ArrayBuffer>;
  /** RAW (the default) or DIGEST. */
  messageType?: MessageType;
  /** One of the key's `signingAlgorithms`. */
  signingAlgorithm: SigningAlgorithm;
}

/** Sign's output. */
export interface SignOutput {
  /** The key ARN. */
  keyId: string;
  /** RSA: the raw signature; ECDSA: DER `Ecdsa-Sig-Value`, as AWS. */
  signature: Uint8Array;
  signingAlgorithm: SigningAlgorithm;
}

/** Verify's input: Sign's, and the signature to check. */
export interface VerifyInput extends SignInput {
  /** 1 to 6144 bytes, as Sign returns it. */
  signature: Uint8Array;
}

/** Verify's output; an invalid signature throws instead. */
export interface VerifyOutput {
  /** The key ARN. */
  keyId: string;
  signatureValid: true;
  signingAlgorithm: SigningAlgorithm;
}

/** GetPublicKey's output. */
export type GetPublicKeyOutput =
  & Pick<
    KeyMetadata,
    | "keySpec"
    | "customerMasterKeySpec"
    | "keyUsage"
    | "signingAlgorithms"
    | "encryptionAlgorithms"
    | "keyAgreementAlgorithms"
  >
  & {
    /** The key ARN. */
    keyId: string;
    /** DER SubjectPublicKeyInfo (RFC 5280), as AWS. */
    publicKey: Uint8Array;
  };

/** Longest message Sign, Verify, GenerateMac and VerifyMac take, as AWS. */
export const MAX_MESSAGE_BYTES = 4096;
/** Longest signature or MAC Verify and VerifyMac take, as AWS. */
export const MAX_SIGNATURE_BYTES = 6144;

/** Every AWS `SigningAlgorithmSpec` okms knows (the HSM may lack some). */
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = Object.keys(
  SIGNING_MECHANISMS,
) as SigningAlgorithm[];

/**
 * The checked input of Sign or Verify and the SIGN_VERIFY key it names.
 *
 * @throws {ValidationException} for a malformed message or algorithm.
 * @throws {InvalidKeyUsageException} when the key does not sign with it.
 */
async function signingRequest(
  scope: AccountScope,
  operation: "Sign" | "Verify",
  input: SignInput,
): Promise<{ key: LiveKey; request: SigningInput }> {
  requireBytes("Message", input?.message, 1, MAX_MESSAGE_BYTES);
  const algorithm = requireOneOf(
    "SigningAlgorithm",
    input.signingAlgorithm,
    SIGNING_ALGORITHMS,
  );
  const messageType = input.messageType === undefined
    ? "RAW"
    : requireOneOf("MessageType", input.messageType, ["RAW", "DIGEST"]);
  const key = scope.keyNow(input.keyId, operation) ??
    await scope.key(input.keyId, operation);
  scope.requireUsage(key, operation, "SIGN_VERIFY");
  scope.requireAlgorithm(key, "SigningAlgorithms", algorithm);
  const spec = key.record.keySpec as KeySpec;
  return {
    key,
    request: { spec, algorithm, message: input.message, messageType },
  };
}

/**
 * Signs a message (or its digest) with an asymmetric SIGN_VERIFY key's
 * private key, in the HSM.
 *
 * @throws {InvalidKeyUsageException} when the key is not a SIGN_VERIFY key
 * or does not take `signingAlgorithm`.
 * @throws {ValidationException} when the message is empty, over 4096 bytes,
 * or a digest of the wrong length.
 * @throws {UnsupportedOperationException} for ED25519_PH_SHA_512, which
 * SoftHSM2 2.6.1 cannot make.
 * @example
 * ```ts
 * const key = await okms.createKey({ keySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY" });
 * const { signature } = await okms.sign({
 *   keyId: key.keyId, message: utf8("hello"), signingAlgorithm: "ECDSA_SHA_256",
 * });
 * ```
 */
export async function sign(
  scope: AccountScope,
  input: SignInput,
): Promise<SignOutput> {
  const { key, request } = await signingRequest(scope, "Sign", input);
  const privateKey = scope.kms.ring.handle(key, key.current);
  return {
    keyId: scope.arn(key),
    signature: await hsmSign(scope.kms.hsm, privateKey, request),
    signingAlgorithm: request.algorithm,
  };
}

/**
 * Checks a signature Sign made (or any signature by the key's private
 * key), in the HSM with the key's public key.
 *
 * @throws {KMSInvalidSignatureException} when the signature is not valid.
 * @throws {InvalidKeyUsageException}, {ValidationException} or
 * {UnsupportedOperationException} as {@linkcode sign}.
 * @example
 * ```ts
 * await okms.verify({
 *   keyId: key.keyId, message: utf8("hello"), signature, signingAlgorithm: "ECDSA_SHA_256",
 * }); // { signatureValid: true, ... }
 * ```
 */
export async function verify(
  scope: AccountScope,
  input: VerifyInput,
): Promise<VerifyOutput> {
  const signature = requireBytes(
    "Signature",
    input?.signature,
    1,
    MAX_SIGNATURE_BYTES,
  );
  const { key, request } = await signingRequest(scope, "Verify", input);
  const valid = await withPublicKey(
    scope,
    key,
    "SIGN_VERIFY",
    (publicKey) => hsmVerify(scope.kms.hsm, publicKey, request, signature),
  );
  if (!valid) {
    throw new KMSInvalidSignatureException(
      `the signature is not valid for the message under ${scope.arn(key)}`,
      { keyArn: scope.arn(key) },
    );
  }
  return {
    keyId: scope.arn(key),
    signatureValid: true,
    signingAlgorithm: request.algorithm,
  };
}

/**
 * The public key of an asymmetric key (SIGN_VERIFY, ENCRYPT_DECRYPT or
 * KEY_AGREEMENT), as DER SubjectPublicKeyInfo, with what it is for.
 *
 * @throws {UnsupportedOperationException} for a symmetric or HMAC key,
 * which has no public key.
 * @example
 * ```ts
 * const { publicKey } = await okms.getPublicKey({ keyId: key.keyId });
 * const verifier = await crypto.subtle.importKey(
 *   "spki", publicKey, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"],
 * );
 * ```
 */
export async function getPublicKey(
  scope: AccountScope,
  input: { keyId: string },
): Promise<GetPublicKeyOutput> {
  const key = scope.keyNow(input?.keyId, "GetPublicKey") ??
    await scope.key(input?.keyId, "GetPublicKey");
  const metadata = scope.metadata(key);
  const { keySpec } = key.record;
  if (keySpec === undefined || KEY_SPECS[keySpec].material.kind === "HMAC") {
    throw new UnsupportedOperationException(
      `${scope.arn(key)} is a ${metadata.keySpec} key, which has no public key`,
      { keyArn: scope.arn(key) },
    );
  }
  return {
    keyId: scope.arn(key),
    publicKey: publicKeyOf(scope, key),
    keySpec: metadata.keySpec,
    customerMasterKeySpec: metadata.customerMasterKeySpec,
    keyUsage: metadata.keyUsage,
    signingAlgorithms: metadata.signingAlgorithms,
    encryptionAlgorithms: metadata.encryptionAlgorithms,
    keyAgreementAlgorithms: metadata.keyAgreementAlgorithms,
  };
}

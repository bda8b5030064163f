/**
 * Moving domain keys from a member node's HSM into a new node's HSM, never
 * in the clear outside an HSM: the new node makes an RSA key pair whose
 * private key stays in its HSM ({@linkcode createTransferKey}), a member
 * wraps its domain keys under the public key with RSA-OAEP
 * ({@linkcode wrapForTransfer}), and the new node unwraps them into token
 * objects made from its own domain-key template ({@linkcode acceptTransfer}).
 * The HSM side only: what to transfer, and where the files go, is the
 * caller's.
 *
 * **RSA-OAEP hash.** SHA-256 (with MGF1-SHA-256) is preferred. SoftHSM2
 * 2.6.1 refuses any OAEP parameters but SHA-1 with MGF1-SHA-1 in
 * `C_WrapKey` and `C_UnwrapKey` (`CKR_ARGUMENTS_BAD`, its
 * `MechParamCheckRSAPKCSOAEP`), so the new node lists the hashes its HSM
 * can unwrap with (it tries each), and the member uses the first its own
 * HSM can wrap with. OAEP's security does not rest on the hash's collision
 * resistance, so SHA-1 there is not SHA-1 in a signature.
 *
 * **Check values.** Each granted key carries
 * `SHA-256("okms-domain-key-check/1\0" ‖ id ‖ AESKW(domain key, 0^256))`:
 * a fixed, public all-zero AES-256 test key wrapped under the domain key
 * with the token's deterministic AES key wrap, then hashed. It lets the new
 * node prove that the key it unwrapped is the member's, and binds the key
 * to its id (a grant whose ids are swapped fails). It reveals nothing of
 * use: AES key wrap of a known input is a pseudorandom function of the key,
 * so it only lets one test a guessed 256-bit key; and it is hashed because
 * the raw wrap would itself be a valid wrapped key under the domain key
 * whose value everyone knows, which someone able to write the metadata
 * store could plant as a key version's material.
 *
 * **What can wrap a domain key.** A domain key is extractable (only to be
 * wrapped: it is sensitive, its value never reads in the clear), so on
 * SoftHSM2 anyone with the user PIN may wrap it under a key of their own
 * and learn it; with SoftHSM2 the PIN and the token files give every key
 * anyway. With `CKA_WRAP_WITH_TRUSTED` (`domainKeyTemplate(id, {
 * wrapWithTrusted: true })`), SoftHSM2 2.6.1 wraps it only under a key with
 * `CKA_TRUSTED`, which only the SO may set (the user gets
 * `CKR_ATTRIBUTE_READ_ONLY`) and only on a public object: the
 * {@linkcode WrapOptions.trusted} option logs in as SO to import the new
 * node's public key as a trusted public session object, which stays usable
 * once the user is logged back in. The embedded token's SO PIN is
 * discarded, so its domain keys are made without that attribute.
 * @module
 */
import { createHash } from "node:crypto";
import {
  CKA,
  CKK,
  CKM,
  CKO,
  CKR,
  type OaepHash,
  oaepMechanism,
  Pkcs11Error,
} from "../../ffi/mod.ts";
import type { Attribute } from "../../ffi/mod.ts";
import type { Hsm } from "../hsm.ts";
import type { WrapAlgorithm } from "../metadata_store.ts";
import {
  domainKeyLabel,
  domainKeyTemplate,
  WRAP_MECHANISMS,
  wrapAlgorithm,
} from "./domain_keys.ts";
import {
  aesKeyTemplate,
  destroyTokenKeys,
  findTokenKey,
  GCM_ONLY,
} from "./token_objects.ts";

/** The label every transfer key starts with; `:` and its id in hex follow. */
export const TRANSFER_KEY_LABEL = "okms-transfer";
/** The size of a transfer key's modulus, and the least a member accepts. */
export const TRANSFER_KEY_BITS = 3072;
/** The OAEP hashes okms uses, preferred first. */
export const OAEP_HASHES: readonly OaepHash[] = ["SHA-256", "SHA-1"];

const REQUEST_FORMAT = "okms-domain-key-transfer-request/1";
const GRANT_FORMAT = "okms-domain-key-transfer-grant/1";
const ID_BYTES = 16;

/** The label of transfer key `id`, e.g. `okms-transfer:00ff…`. */
export function transferKeyLabel(id: Uint8Array): string {
  return `${TRANSFER_KEY_LABEL}:${id.toHex()}`;
}

/** What the new node asks a member for: its transfer key's public half. */
export interface TransferRequest {
  format: typeof REQUEST_FORMAT;
  /** The transfer key's `CKA_ID`, 16 bytes in hex. */
  transferId: string;
  /** The new node's token, to name it in messages. */
  tokenLabel: string;
  tokenSerial: string;
  /** The RSA public key, big-endian, base64. */
  modulus: string;
  publicExponent: string;
  /** The OAEP hashes the new node's HSM unwraps with, preferred first. */
  oaepHashes: OaepHash[];
}

/** One domain key in a {@linkcode TransferGrant}. */
export interface GrantedKey {
  /** The domain key's `CKA_ID`, in hex. */
  id: string;
  /** The key wrapped under the transfer key with RSA-OAEP, base64. */
  wrapped: string;
  /** Its check value (see the module documentation), base64. */
  check: string;
}

/** What a member answers a {@linkcode TransferRequest} with. */
export interface TransferGrant {
  format: typeof GRANT_FORMAT;
  /** The request's transfer id. */
  transferId: string;
  /** The OAEP hash the keys are wrapped with. */
  oaepHash: OaepHash;
  /** The AES key wrap the check values were made with. */
  checkAlgorithm: WrapAlgorithm;
  keys: GrantedKey[];
}

/** What {@linkcode acceptTransfer} did, by domain key id in hex. */
export interface AcceptResult {
  /** Made in this HSM from the grant. */
  accepted: string[];
  /** Already here, with the same value. */
  skipped: string[];
}

/**
 * A transfer step refused: the message says which key or file and why, and
 * never holds key material, wrapped keys or check values.
 */
export class DomainKeyTransferError extends Error {
  override name = "DomainKeyTransferError";
}

/** Packed `CK_MECHANISM_TYPE`s: RSA-OAEP alone. */
const OAEP_ONLY = new Uint8Array(
  new BigUint64Array([BigInt(CKM.RSA_PKCS_OAEP)]).buffer,
);
const F4 = Uint8Array.of(1, 0, 1);

/** The public half as okms imports or generates it: a session key that only wraps. */
function publicKeyTemplate(extra: readonly Attribute[]): Attribute[] {
  return [
    [CKA.CLASS, CKO.PUBLIC_KEY],
    [CKA.KEY_TYPE, CKK.RSA],
    [CKA.TOKEN, false],
    ...extra,
    [CKA.ENCRYPT, false],
    [CKA.VERIFY, false],
    [CKA.WRAP, true],
    [CKA.ALLOWED_MECHANISMS, OAEP_ONLY],
    [CKA.MODIFIABLE, false],
  ];
}

/** The transfer private key: a token key that can only unwrap, with RSA-OAEP. */
function privateKeyTemplate(id: Uint8Array): Attribute[] {
  return [
    [CKA.CLASS, CKO.PRIVATE_KEY],
    [CKA.KEY_TYPE, CKK.RSA],
    [CKA.ID, id],
    [CKA.LABEL, transferKeyLabel(id)],
    [CKA.TOKEN, true],
    [CKA.PRIVATE, true],
    [CKA.SENSITIVE, true],
    [CKA.EXTRACTABLE, false],
    [CKA.COPYABLE, false],
    [CKA.DECRYPT, false],
    [CKA.SIGN, false],
    [CKA.DERIVE, false],
    [CKA.UNWRAP, true],
    [CKA.ALLOWED_MECHANISMS, OAEP_ONLY],
    [CKA.MODIFIABLE, false],
  ];
}

/**
 * Step 1, on the new node: generates a transfer key pair (RSA 3072) in its
 * HSM, the private key a token object that can only unwrap with RSA-OAEP,
 * and returns the request to hand to a member node. The public key object
 * is destroyed once read; the private key until {@linkcode acceptTransfer}.
 *
 * @throws {DomainKeyTransferError} when the HSM offers no usable RSA-OAEP.
 * @example
 * ```ts
 * const request = createTransferKey(newHsm);
 * await Deno.writeTextFile("request.json", JSON.stringify(request), { mode: 0o600 });
 * ```
 */
export function createTransferKey(hsm: Hsm): TransferRequest {
  requireOaep(hsm);
  const id = hsm.random(ID_BYTES);
  const { publicKey, privateKey } = hsm.generateKeyPair(
    CKM.RSA_PKCS_KEY_PAIR_GEN,
    publicKeyTemplate([
      [CKA.MODULUS_BITS, TRANSFER_KEY_BITS],
      [CKA.PUBLIC_EXPONENT, F4],
    ]),
    privateKeyTemplate(id),
  );
  try {
    const { modulus, publicExponent } = hsm.rsaPublicKey(publicKey);
    const oaepHashes = OAEP_HASHES.filter((hash) =>
      roundTrips(hsm, hash, publicKey, privateKey)
    );
    if (oaepHashes.length === 0) {
      throw new DomainKeyTransferError(
        `the PKCS#11 token "${hsm.token.label}" cannot unwrap with RSA-OAEP (SHA-256 nor SHA-1)`,
      );
    }
    return {
      format: REQUEST_FORMAT,
      transferId: id.toHex(),
      tokenLabel: hsm.token.label,
      tokenSerial: hsm.token.serialNumber,
      modulus: modulus.toBase64(),
      publicExponent: publicExponent.toBase64(),
      oaepHashes,
    };
  } catch (error) {
    hsm.destroy(privateKey);
    throw error;
  } finally {
    hsm.destroy(publicKey);
  }
}

/** A throwaway AES session key: `extractable` to be wrapped, else unwrapped into. */
function throwawayKey(extractable: boolean): Attribute[] {
  return aesKeyTemplate({
    token: false,
    extractable,
    cipher: false,
    wrap: false,
    mechanisms: GCM_ONLY,
  });
}

/** Whether `hash` is an OAEP hash the HSM wraps and unwraps with. */
function roundTrips(
  hsm: Hsm,
  hash: OaepHash,
  publicKey: number,
  privateKey: number,
): boolean {
  const key = hsm.generateAesKey([[CKA.VALUE_LEN, 32], ...throwawayKey(true)]);
  try {
    const wrapped = oaepWrap(hsm, hash, publicKey, key);
    if (wrapped === undefined) return false;
    try {
      hsm.destroy(
        hsm.unwrap(
          oaepMechanism(hash),
          privateKey,
          wrapped,
          throwawayKey(false),
        ),
      );
    } finally {
      wrapped.fill(0);
    }
    return true;
  } catch (error) {
    if (refusesParameters(error)) return false;
    throw error;
  } finally {
    hsm.destroy(key);
  }
}

/** `key` wrapped under `publicKey`, or `undefined` when the HSM refuses `hash`. */
function oaepWrap(
  hsm: Hsm,
  hash: OaepHash,
  publicKey: number,
  key: number,
): Uint8Array | undefined {
  try {
    return hsm.wrap(oaepMechanism(hash), publicKey, key);
  } catch (error) {
    if (refusesParameters(error)) return undefined;
    throw error;
  }
}

function refusesParameters(error: unknown): boolean {
  return error instanceof Pkcs11Error && (
    error.code === CKR.ARGUMENTS_BAD ||
    error.code === CKR.MECHANISM_PARAM_INVALID ||
    error.code === CKR.MECHANISM_INVALID
  );
}

function requireOaep(hsm: Hsm): void {
  if (!hsm.mechanisms.has(CKM.RSA_PKCS_OAEP)) {
    throw new DomainKeyTransferError(
      `the PKCS#11 token "${hsm.token.label}" does not offer CKM_RSA_PKCS_OAEP, which moving domain keys needs`,
    );
  }
}

/** Options of {@linkcode wrapForTransfer}. */
export interface WrapOptions {
  /**
   * Import the new node's public key as a `CKA_TRUSTED` key, which only the
   * security officer may make: needed for domain keys made with
   * `CKA_WRAP_WITH_TRUSTED`. The session logs in as SO and then the user
   * again (see `Hsm.asSecurityOfficer`: other sessions of this process on
   * the token lose their login). Both PINs are zeroed.
   */
  trusted?: { soPin: Uint8Array; userPin: Uint8Array };
  /**
   * The request's {@linkcode transferFingerprint}, as the new node's
   * operator read it out: the request is refused when it differs. Without
   * it, nothing proves the public key is the new node's.
   */
  fingerprint?: string;
}

/**
 * Step 2, on a member node: wraps each domain key (found by `CKA_ID`)
 * under the request's public key, imported as a session object that can
 * only wrap, with RSA-OAEP; adds each key's check value.
 *
 * @throws {DomainKeyTransferError} when the request is malformed or its
 * fingerprint differs, a key is missing, was made not extractable (by a
 * single node), or needs a trusted wrapping key and `trusted` is
 * not given.
 * @example
 * ```ts
 * const grant = wrapForTransfer(memberHsm, [domainKeyId], request, { fingerprint });
 * ```
 */
export function wrapForTransfer(
  hsm: Hsm,
  domainKeyIds: readonly Uint8Array[],
  request: TransferRequest,
  options: WrapOptions = {},
): TransferGrant {
  const { trusted } = options;
  try {
    const parsed = parseRequest(request);
    if (
      options.fingerprint !== undefined &&
      normalized(options.fingerprint) !== transferFingerprint(request)
    ) {
      throw new DomainKeyTransferError(
        `the transfer request ${parsed.transferId} does not have the fingerprint given: it is not the request the new node made`,
      );
    }
    requireOaep(hsm);
    const ids = distinct(domainKeyIds);
    const algorithm = wrapAlgorithm(hsm);
    const template = publicKeyTemplate([
      [CKA.MODULUS, parsed.modulus],
      [CKA.PUBLIC_EXPONENT, parsed.publicExponent],
      ...(trusted ? [[CKA.PRIVATE, false], [CKA.TRUSTED, true]] as const : []),
    ]);
    const publicKey = trusted
      ? hsm.asSecurityOfficer(
        trusted.soPin,
        trusted.userPin,
        () => hsm.createObject(template),
      )
      : hsm.createObject(template);
    try {
      const keys = ids.map((id) => wrappable(hsm, id, trusted !== undefined));
      const oaepHash = usableHash(hsm, parsed.oaepHashes, publicKey, keys[0]);
      return {
        format: GRANT_FORMAT,
        transferId: parsed.transferId.toHex(),
        oaepHash,
        checkAlgorithm: algorithm,
        keys: keys.map((handle, i) => ({
          id: ids[i].toHex(),
          wrapped: hsm.wrap(oaepMechanism(oaepHash), publicKey, handle)
            .toBase64(),
          check: checkValue(hsm, handle, ids[i], algorithm).toBase64(),
        })),
      };
    } finally {
      hsm.destroy(publicKey);
    }
  } finally {
    trusted?.soPin.fill(0);
    trusted?.userPin.fill(0);
  }
}

/** The handle of domain key `id`, refused unless it can be wrapped as asked. */
function wrappable(hsm: Hsm, id: Uint8Array, trusted: boolean): number {
  const label = domainKeyLabel(id);
  const handle = findTokenKey(hsm, id);
  if (handle === undefined) {
    throw new DomainKeyTransferError(
      `the PKCS#11 token "${hsm.token.label}" holds no domain key ${label}`,
    );
  }
  const [extractable, wrapWithTrusted] = hsm.read(handle, [
    [CKA.EXTRACTABLE, 1],
    [CKA.WRAP_WITH_TRUSTED, 1],
  ]).map((value) => value?.[0] === 1);
  if (!extractable) {
    throw new DomainKeyTransferError(
      `domain key ${label} was made not extractable (by a single node, or before clusters), so it can never leave this HSM, even wrapped: ` +
        "rotate the domain key on a cluster node (okms.rotateDomainKey(); a cluster's new domain keys can move), then transfer the new one",
    );
  }
  if (wrapWithTrusted && !trusted) {
    throw new DomainKeyTransferError(
      `domain key ${label} may only be wrapped under a key the security officer trusts (CKA_WRAP_WITH_TRUSTED): give the SO PIN (the trusted option)`,
    );
  }
  return handle;
}

/** The first of the new node's OAEP hashes this HSM wraps with. */
function usableHash(
  hsm: Hsm,
  offered: readonly OaepHash[],
  publicKey: number,
  domainKey: number,
): OaepHash {
  for (const hash of offered) {
    const wrapped = oaepWrap(hsm, hash, publicKey, domainKey);
    wrapped?.fill(0);
    if (wrapped !== undefined) return hash;
  }
  throw new DomainKeyTransferError(
    `the PKCS#11 token "${hsm.token.label}" wraps with none of the RSA-OAEP hashes the new node offers (${
      offered.join(", ")
    })`,
  );
}

function distinct(ids: readonly Uint8Array[]): Uint8Array[] {
  if (ids.length === 0) {
    throw new DomainKeyTransferError("no domain key to transfer was given");
  }
  const byHex = new Map(ids.map((id) => [id.toHex(), id]));
  return [...byHex.values()];
}

/** Options of {@linkcode acceptTransfer}. */
export interface AcceptOptions {
  /** Make the keys with `CKA_WRAP_WITH_TRUSTED` (see `domainKeyTemplate`). */
  wrapWithTrusted?: boolean;
}

/**
 * Step 3, on the new node: unwraps each granted key with the transfer
 * private key into a token object made from okms's domain-key template
 * (the attributes, id and label a domain key generated here would have),
 * checks its check value, skips a key already here with the same value,
 * and finally destroys the transfer key. On any failure it destroys every
 * key it made and keeps the transfer key, so a corrected grant can follow.
 *
 * @throws {DomainKeyTransferError} when the grant is malformed, this HSM
 * has no transfer key of its id (another request's grant, or one accepted
 * already), a wrapped key does not open (altered, or made for another
 * transfer key), a check value differs, or a key is here with another value.
 * @example
 * ```ts
 * const { accepted, skipped } = acceptTransfer(newHsm, grant);
 * ```
 */
export function acceptTransfer(
  hsm: Hsm,
  grant: TransferGrant,
  options: AcceptOptions = {},
): AcceptResult {
  const parsed = parseGrant(grant);
  const transferKey = findTransferKey(hsm, parsed.transferId);
  const checkMechanism = WRAP_MECHANISMS[parsed.checkAlgorithm];
  if (!hsm.mechanisms.has(checkMechanism)) {
    throw new DomainKeyTransferError(
      `the grant's check values use ${parsed.checkAlgorithm} AES key wrap, which the PKCS#11 token "${hsm.token.label}" does not offer`,
    );
  }
  /** Keys this call makes: no object had their id before it. */
  const made: ParsedKey[] = [];
  const result: AcceptResult = { accepted: [], skipped: [] };
  try {
    for (const key of parsed.keys) {
      const label = domainKeyLabel(key.id);
      const present = findTokenKey(hsm, key.id);
      if (present !== undefined) {
        if (!sameCheck(hsm, present, key, parsed.checkAlgorithm)) {
          throw new DomainKeyTransferError(
            `the PKCS#11 token "${hsm.token.label}" already holds domain key ${label} with a different value: refusing to replace it`,
          );
        }
        result.skipped.push(key.id.toHex());
        continue;
      }
      made.push(key);
      const handle = unwrapGranted(hsm, transferKey, parsed, key, options);
      if (!sameCheck(hsm, handle, key, parsed.checkAlgorithm)) {
        throw new DomainKeyTransferError(
          `domain key ${label} arrived with another value than its check value says: the grant was altered; nothing was kept`,
        );
      }
      result.accepted.push(key.id.toHex());
    }
  } catch (error) {
    // By id or label: SoftHSM2 may keep an object a refused call half made.
    for (const key of made) {
      destroyTokenKeys(hsm, key.id, domainKeyLabel(key.id));
    }
    throw error;
  }
  destroyTransferKey(hsm, parsed.transferId);
  return result;
}

/** A granted key unwrapped into a domain key token object. */
function unwrapGranted(
  hsm: Hsm,
  transferKey: number,
  grant: ParsedGrant,
  key: ParsedKey,
  options: AcceptOptions,
): number {
  // SoftHSM2 refuses CKA_VALUE_LEN on unwrap (CKR_ATTRIBUTE_READ_ONLY) and
  // then records 0; the check value proves the length with the value.
  // Transferable: a node admitted this way may grant to the next one.
  const template = domainKeyTemplate(key.id, {
    ...options,
    transferable: true,
  }).filter(([type]) => type !== CKA.VALUE_LEN);
  try {
    return hsm.unwrap(
      oaepMechanism(grant.oaepHash),
      transferKey,
      key.wrapped,
      template,
    );
  } catch (error) {
    throw new DomainKeyTransferError(
      `domain key ${domainKeyLabel(key.id)} does not open under transfer key ${
        transferKeyLabel(grant.transferId)
      }: the grant was altered, or made for another transfer request (${
        (error as Error).message
      }); nothing was kept`,
    );
  }
}

/** The transfer private key of `id`. */
function findTransferKey(hsm: Hsm, id: Uint8Array): number {
  const [handle, ...others] = hsm.find(transferKeyQuery(id));
  if (handle === undefined) {
    throw new DomainKeyTransferError(
      `the PKCS#11 token "${hsm.token.label}" holds no transfer key ${
        transferKeyLabel(id)
      }: the grant answers another node's or an earlier request, or was accepted already`,
    );
  }
  if (others.length > 0) {
    throw new DomainKeyTransferError(
      `${
        1 + others.length
      } transfer keys share the id ${id.toHex()}; refusing to guess`,
    );
  }
  return handle;
}

function transferKeyQuery(id: Uint8Array): Attribute[] {
  return [
    [CKA.CLASS, CKO.PRIVATE_KEY],
    [CKA.KEY_TYPE, CKK.RSA],
    [CKA.TOKEN, true],
    [CKA.ID, id],
  ];
}

/**
 * Abandons a transfer on the new node: destroys its transfer key (a grant
 * for it can no longer be accepted), and checks that none is left.
 *
 * @example
 * ```ts
 * cancelTransfer(newHsm, request.transferId);
 * ```
 */
export function cancelTransfer(hsm: Hsm, transferId: string): void {
  destroyTransferKey(hsm, id(transferId, "the transfer id"));
}

/** Destroys the transfer key of `id`, and checks that none is left. */
function destroyTransferKey(hsm: Hsm, id: Uint8Array): void {
  for (const handle of hsm.find(transferKeyQuery(id))) hsm.destroy(handle);
  if (hsm.find(transferKeyQuery(id)).length > 0) {
    throw new Error(
      `transfer key ${transferKeyLabel(id)} remains after C_DestroyObject`,
    );
  }
}

/** The fixed, public test key of check values: AES-256, all zero. */
const CHECK_KEY: readonly Attribute[] = [
  [CKA.CLASS, CKO.SECRET_KEY],
  [CKA.KEY_TYPE, CKK.AES],
  [CKA.TOKEN, false],
  [CKA.VALUE, new Uint8Array(32)],
  [CKA.SENSITIVE, false],
  [CKA.EXTRACTABLE, true],
  [CKA.ENCRYPT, false],
  [CKA.DECRYPT, false],
  [CKA.WRAP, false],
  [CKA.UNWRAP, false],
  [CKA.SIGN, false],
  [CKA.VERIFY, false],
  [CKA.DERIVE, false],
];
const CHECK_CONTEXT = new TextEncoder().encode("okms-domain-key-check/1\0");

/**
 * The check value of domain key `id` (see the module documentation):
 * SHA-256 over a context, the id, and the public test key wrapped under it.
 *
 * @example
 * ```ts
 * const check = checkValue(hsm, handle, id, "RFC5649");
 * ```
 */
export function checkValue(
  hsm: Hsm,
  domainKey: number,
  id: Uint8Array,
  algorithm: WrapAlgorithm,
): Uint8Array {
  const testKey = hsm.createObject(CHECK_KEY);
  try {
    const wrapped = hsm.wrap(WRAP_MECHANISMS[algorithm], domainKey, testKey);
    try {
      return new Uint8Array(
        createHash("sha256").update(CHECK_CONTEXT).update(id).update(wrapped)
          .digest(),
      );
    } finally {
      wrapped.fill(0);
    }
  } finally {
    hsm.destroy(testKey);
  }
}

function sameCheck(
  hsm: Hsm,
  handle: number,
  key: ParsedKey,
  algorithm: WrapAlgorithm,
): boolean {
  const actual = checkValue(hsm, handle, key.id, algorithm);
  return actual.length === key.check.length &&
    actual.every((b, i) => b === key.check[i]);
}

/**
 * The fingerprint of a request, for its two operators to compare out of
 * band: SHA-256 over its transfer id, public key and OAEP hashes, in hex
 * groups of four. A member that wraps for an unverified request may be
 * wrapping for whoever wrote the file.
 *
 * @example
 * ```ts
 * console.log(`compare with the new node: ${transferFingerprint(request)}`);
 * ```
 */
export function transferFingerprint(request: TransferRequest): string {
  const parsed = parseRequest(request);
  const hash = createHash("sha256");
  for (
    const part of [
      new TextEncoder().encode(REQUEST_FORMAT),
      parsed.transferId,
      parsed.modulus,
      parsed.publicExponent,
      new TextEncoder().encode(parsed.oaepHashes.join(",")),
    ]
  ) {
    hash.update(Uint8Array.of(part.length >> 8, part.length & 0xff));
    hash.update(part);
  }
  return hash.digest("hex").match(/.{4}/g)!.join(" ");
}

function normalized(fingerprint: string): string {
  return fingerprint.toLowerCase().replace(/[^0-9a-f]/g, "").match(/.{1,4}/g)
    ?.join(" ") ?? "";
}

interface ParsedRequest {
  transferId: Uint8Array;
  modulus: Uint8Array;
  publicExponent: Uint8Array;
  oaepHashes: OaepHash[];
}

interface ParsedKey {
  id: Uint8Array;
  wrapped: Uint8Array;
  check: Uint8Array;
}

interface ParsedGrant {
  transferId: Uint8Array;
  oaepHash: OaepHash;
  checkAlgorithm: WrapAlgorithm;
  keys: ParsedKey[];
}

/** The bit length of a big-endian unsigned integer (leading zeros do not count). */
function bitLength(value: Uint8Array): number {
  const first = value.findIndex((byte) => byte !== 0);
  if (first < 0) return 0;
  return (value.length - first - 1) * 8 + (32 - Math.clz32(value[first]));
}

function parseRequest(request: TransferRequest): ParsedRequest {
  const what = "the transfer request";
  if (request?.format !== REQUEST_FORMAT) {
    throw new DomainKeyTransferError(`${what} is not a ${REQUEST_FORMAT}`);
  }
  const modulus = bytes(request.modulus, `${what}'s modulus`, "base64");
  const bits = bitLength(modulus);
  if (bits < TRANSFER_KEY_BITS) {
    throw new DomainKeyTransferError(
      `${what}'s RSA key has ${bits} bits: okms wraps domain keys only under ${TRANSFER_KEY_BITS} bits or more`,
    );
  }
  const hashes = request.oaepHashes;
  if (
    !Array.isArray(hashes) || hashes.length === 0 ||
    !hashes.every((hash) => OAEP_HASHES.includes(hash))
  ) {
    throw new DomainKeyTransferError(
      `${what}'s oaepHashes must list some of ${OAEP_HASHES.join(", ")}`,
    );
  }
  return {
    transferId: id(request.transferId, `${what}'s transferId`),
    modulus,
    publicExponent: bytes(
      request.publicExponent,
      `${what}'s publicExponent`,
      "base64",
    ),
    oaepHashes: hashes,
  };
}

function parseGrant(grant: TransferGrant): ParsedGrant {
  const what = "the transfer grant";
  if (grant?.format !== GRANT_FORMAT) {
    throw new DomainKeyTransferError(`${what} is not a ${GRANT_FORMAT}`);
  }
  if (!OAEP_HASHES.includes(grant.oaepHash)) {
    throw new DomainKeyTransferError(`${what}'s oaepHash is not one okms uses`);
  }
  if (!Object.hasOwn(WRAP_MECHANISMS, grant.checkAlgorithm)) {
    throw new DomainKeyTransferError(
      `${what}'s checkAlgorithm is not one okms uses`,
    );
  }
  if (!Array.isArray(grant.keys) || grant.keys.length === 0) {
    throw new DomainKeyTransferError(`${what} holds no key`);
  }
  return {
    transferId: id(grant.transferId, `${what}'s transferId`),
    oaepHash: grant.oaepHash,
    checkAlgorithm: grant.checkAlgorithm,
    keys: grant.keys.map((key, i) => ({
      id: id(key?.id, `${what}'s key ${i + 1} id`),
      wrapped: bytes(key.wrapped, `${what}'s key ${i + 1}`, "base64"),
      check: bytes(key.check, `${what}'s key ${i + 1} check value`, "base64"),
    })),
  };
}

function id(text: unknown, what: string): Uint8Array {
  const value = bytes(text, what, "hex");
  if (value.length !== ID_BYTES) {
    throw new DomainKeyTransferError(`${what} is not ${ID_BYTES} bytes`);
  }
  return value;
}

function bytes(text: unknown, what: string, encoding: "hex" | "base64") {
  try {
    if (typeof text !== "string" || text.length === 0) throw new Error();
    return encoding === "hex"
      ? Uint8Array.fromHex(text)
      : Uint8Array.fromBase64(text);
  } catch {
    throw new DomainKeyTransferError(`${what} is not ${encoding} text`);
  }
}

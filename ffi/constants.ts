/**
 * PKCS#11 v2.40 constants used by okms (values from pkcs11t.h).
 *
 * Only the names okms needs are listed; they are grouped by their C prefix.
 * @module
 */

/** `CK_ULONG` is 8 bytes on the 64-bit Linux targets okms supports. */
export const CK_ULONG_SIZE = 8;
/** `CK_UNAVAILABLE_INFORMATION` (`~0UL`), as read back from a `CK_ULONG`. */
export const CK_UNAVAILABLE_INFORMATION = 0xffff_ffff_ffff_ffffn;

/** Return values (`CKR_*`). */
export const CKR = {
  OK: 0x0,
  CANCEL: 0x1,
  HOST_MEMORY: 0x2,
  SLOT_ID_INVALID: 0x3,
  GENERAL_ERROR: 0x5,
  FUNCTION_FAILED: 0x6,
  ARGUMENTS_BAD: 0x7,
  NEED_TO_CREATE_THREADS: 0x9,
  CANT_LOCK: 0xa,
  ATTRIBUTE_READ_ONLY: 0x10,
  ATTRIBUTE_SENSITIVE: 0x11,
  ATTRIBUTE_TYPE_INVALID: 0x12,
  ATTRIBUTE_VALUE_INVALID: 0x13,
  ACTION_PROHIBITED: 0x1b,
  DATA_INVALID: 0x20,
  DATA_LEN_RANGE: 0x21,
  DEVICE_ERROR: 0x30,
  DEVICE_MEMORY: 0x31,
  DEVICE_REMOVED: 0x32,
  ENCRYPTED_DATA_INVALID: 0x40,
  ENCRYPTED_DATA_LEN_RANGE: 0x41,
  FUNCTION_CANCELED: 0x50,
  FUNCTION_NOT_PARALLEL: 0x51,
  FUNCTION_NOT_SUPPORTED: 0x54,
  KEY_HANDLE_INVALID: 0x60,
  KEY_SIZE_RANGE: 0x62,
  KEY_TYPE_INCONSISTENT: 0x63,
  KEY_FUNCTION_NOT_PERMITTED: 0x68,
  KEY_NOT_WRAPPABLE: 0x69,
  KEY_UNEXTRACTABLE: 0x6a,
  MECHANISM_INVALID: 0x70,
  MECHANISM_PARAM_INVALID: 0x71,
  OBJECT_HANDLE_INVALID: 0x82,
  OPERATION_ACTIVE: 0x90,
  OPERATION_NOT_INITIALIZED: 0x91,
  PIN_INCORRECT: 0xa0,
  PIN_INVALID: 0xa1,
  PIN_LEN_RANGE: 0xa2,
  PIN_EXPIRED: 0xa3,
  PIN_LOCKED: 0xa4,
  SESSION_CLOSED: 0xb0,
  SESSION_COUNT: 0xb1,
  SESSION_HANDLE_INVALID: 0xb3,
  SESSION_PARALLEL_NOT_SUPPORTED: 0xb4,
  SESSION_READ_ONLY: 0xb5,
  SESSION_EXISTS: 0xb6,
  SESSION_READ_ONLY_EXISTS: 0xb7,
  SESSION_READ_WRITE_SO_EXISTS: 0xb8,
  TEMPLATE_INCOMPLETE: 0xd0,
  TEMPLATE_INCONSISTENT: 0xd1,
  TOKEN_NOT_PRESENT: 0xe0,
  TOKEN_NOT_RECOGNIZED: 0xe1,
  TOKEN_WRITE_PROTECTED: 0xe2,
  UNWRAPPING_KEY_HANDLE_INVALID: 0xf0,
  UNWRAPPING_KEY_SIZE_RANGE: 0xf1,
  UNWRAPPING_KEY_TYPE_INCONSISTENT: 0xf2,
  USER_ALREADY_LOGGED_IN: 0x100,
  USER_NOT_LOGGED_IN: 0x101,
  USER_PIN_NOT_INITIALIZED: 0x102,
  USER_TYPE_INVALID: 0x103,
  USER_ANOTHER_ALREADY_LOGGED_IN: 0x104,
  SIGNATURE_INVALID: 0xc0,
  SIGNATURE_LEN_RANGE: 0xc1,
  WRAPPED_KEY_INVALID: 0x110,
  WRAPPED_KEY_LEN_RANGE: 0x112,
  WRAPPING_KEY_HANDLE_INVALID: 0x113,
  WRAPPING_KEY_SIZE_RANGE: 0x114,
  WRAPPING_KEY_TYPE_INCONSISTENT: 0x115,
  RANDOM_NO_RNG: 0x121,
  DOMAIN_PARAMS_INVALID: 0x130,
  CURVE_NOT_SUPPORTED: 0x140,
  BUFFER_TOO_SMALL: 0x150,
  CRYPTOKI_NOT_INITIALIZED: 0x190,
  CRYPTOKI_ALREADY_INITIALIZED: 0x191,
} as const;

const ckrNames = new Map<number, string>(
  Object.entries(CKR).map(([name, code]) => [code, `CKR_${name}`]),
);

/** The `CKR_*` name of a return value, or its hexadecimal code when unknown. */
export function ckrName(code: number): string {
  return ckrNames.get(code) ?? `CKR_0x${code.toString(16).padStart(8, "0")}`;
}

/** Attribute types (`CKA_*`). */
export const CKA = {
  CLASS: 0x0,
  TOKEN: 0x1,
  PRIVATE: 0x2,
  LABEL: 0x3,
  TRUSTED: 0x86,
  VALUE: 0x11,
  KEY_TYPE: 0x100,
  ID: 0x102,
  SENSITIVE: 0x103,
  ENCRYPT: 0x104,
  DECRYPT: 0x105,
  WRAP: 0x106,
  UNWRAP: 0x107,
  SIGN: 0x108,
  SIGN_RECOVER: 0x109,
  VERIFY: 0x10a,
  VERIFY_RECOVER: 0x10b,
  DERIVE: 0x10c,
  MODULUS: 0x120,
  MODULUS_BITS: 0x121,
  PUBLIC_EXPONENT: 0x122,
  VALUE_LEN: 0x161,
  /** DER `ECParameters` (a named curve's OID) of an EC or Edwards key. */
  EC_PARAMS: 0x180,
  /** DER OCTET STRING holding the public point of an EC or Edwards key. */
  EC_POINT: 0x181,
  EXTRACTABLE: 0x162,
  LOCAL: 0x163,
  NEVER_EXTRACTABLE: 0x164,
  ALWAYS_SENSITIVE: 0x165,
  MODIFIABLE: 0x170,
  COPYABLE: 0x171,
  DESTROYABLE: 0x172,
  WRAP_WITH_TRUSTED: 0x210,
  ALLOWED_MECHANISMS: 0x40000600,
} as const;

/** Object classes (`CKO_*`). */
export const CKO = {
  PUBLIC_KEY: 0x2,
  PRIVATE_KEY: 0x3,
  SECRET_KEY: 0x4,
} as const;
/** Key types (`CKK_*`). */
export const CKK = {
  RSA: 0x0,
  EC: 0x3,
  GENERIC_SECRET: 0x10,
  AES: 0x1f,
  SHA256_HMAC: 0x2b,
  SHA384_HMAC: 0x2c,
  SHA512_HMAC: 0x2d,
  SHA224_HMAC: 0x2e,
  EC_EDWARDS: 0x40,
} as const;
/** Mechanisms (`CKM_*`). */
export const CKM = {
  RSA_PKCS_KEY_PAIR_GEN: 0x0,
  /** RSASSA-PKCS1-v1_5 on a DigestInfo the caller built. */
  RSA_PKCS: 0x1,
  /** RSA-OAEP; its parameter is a `CK_RSA_PKCS_OAEP_PARAMS`. */
  RSA_PKCS_OAEP: 0x9,
  /** RSASSA-PSS on a digest; its parameter is a `CK_RSA_PKCS_PSS_PARAMS`. */
  RSA_PKCS_PSS: 0xd,
  SHA256_RSA_PKCS: 0x40,
  SHA384_RSA_PKCS: 0x41,
  SHA512_RSA_PKCS: 0x42,
  SHA256_RSA_PKCS_PSS: 0x43,
  SHA384_RSA_PKCS_PSS: 0x44,
  SHA512_RSA_PKCS_PSS: 0x45,
  SHA_1: 0x220,
  SHA256: 0x250,
  SHA256_HMAC: 0x251,
  SHA224: 0x255,
  SHA224_HMAC: 0x256,
  SHA384: 0x260,
  SHA384_HMAC: 0x261,
  SHA512: 0x270,
  SHA512_HMAC: 0x271,
  GENERIC_SECRET_KEY_GEN: 0x350,
  EC_KEY_PAIR_GEN: 0x1040,
  /** ECDSA on a digest the caller computed. */
  ECDSA: 0x1041,
  ECDSA_SHA256: 0x1044,
  ECDSA_SHA384: 0x1045,
  ECDSA_SHA512: 0x1046,
  /** ECDH; its parameter is a `CK_ECDH1_DERIVE_PARAMS`. */
  ECDH1_DERIVE: 0x1050,
  EC_EDWARDS_KEY_PAIR_GEN: 0x1055,
  /** EdDSA (pure Ed25519 without parameter). */
  EDDSA: 0x1057,
  AES_KEY_GEN: 0x1080,
  AES_ECB: 0x1081,
  AES_GCM: 0x1087,
  /** RFC 3394 AES key wrap. */
  AES_KEY_WRAP: 0x2109,
  /** RFC 5649 AES key wrap with padding. */
  AES_KEY_WRAP_PAD: 0x210a,
} as const;
/** Mask generation functions of RSA-OAEP (`CKG_*`). */
export const CKG = {
  MGF1_SHA1: 0x1,
  MGF1_SHA256: 0x2,
  MGF1_SHA384: 0x3,
  MGF1_SHA512: 0x4,
  MGF1_SHA224: 0x5,
} as const;
/** Key derivation functions applied to an ECDH shared secret (`CKD_*`). */
export const CKD = { NULL: 0x1 } as const;
/** Where RSA-OAEP's encoding parameter (label) comes from (`CKZ_*`). */
export const CKZ = { DATA_SPECIFIED: 0x1 } as const;
/** User types (`CKU_*`). */
export const CKU = { SO: 0, USER: 1 } as const;

/** Flags (`CKF_*`), by the structure they belong to. */
export const CKF = {
  /** `CK_C_INITIALIZE_ARGS.flags`: the library may use the OS's locking. */
  OS_LOCKING_OK: 0x2,
  /** `C_OpenSession` flags. */
  RW_SESSION: 0x2,
  SERIAL_SESSION: 0x4,
  /** `CK_SLOT_INFO.flags`. */
  TOKEN_PRESENT: 0x1,
  /** `CK_TOKEN_INFO.flags`. */
  LOGIN_REQUIRED: 0x4,
  USER_PIN_INITIALIZED: 0x8,
  TOKEN_INITIALIZED: 0x400,
  /** `CK_MECHANISM_INFO.flags`. */
  ENCRYPT: 0x100,
  DECRYPT: 0x200,
  SIGN: 0x800,
  VERIFY: 0x2000,
  GENERATE: 0x8000,
  GENERATE_KEY_PAIR: 0x10000,
  WRAP: 0x20000,
  UNWRAP: 0x40000,
  DERIVE: 0x80000,
} as const;

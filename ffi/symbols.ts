/**
 * The PKCS#11 functions okms calls, as `Deno.dlopen` symbol definitions.
 *
 * Every `CK_RV` and `CK_ULONG` is a `usize` (unsigned long is pointer-sized
 * on the LP64 targets okms supports), every pointer a `buffer`
 * (a `Uint8Array` the caller keeps referenced until the call returns) and
 * every `CK_BBOOL` a `u8`. Symbols are `optional`: a module that does not
 * export them is reached through `C_GetFunctionList` instead.
 * @module
 */

const ulong = "usize" as const; // CK_ULONG: unsigned long, 8 bytes on LP64
const ptr = "buffer" as const;

/** The symbols okms binds, each parameter commented with its C declaration. */
export const PKCS11_SYMBOLS = {
  C_Initialize: {
    parameters: [ptr], // CK_VOID_PTR pInitArgs
    result: ulong,
    optional: true,
  },
  C_Finalize: {
    parameters: [ptr], // CK_VOID_PTR pReserved
    result: ulong,
    optional: true,
  },
  C_GetSlotList: {
    parameters: [
      "u8", // CK_BBOOL tokenPresent
      ptr, // CK_SLOT_ID_PTR pSlotList
      ptr, // CK_ULONG_PTR pulCount
    ],
    result: ulong,
    optional: true,
  },
  C_GetTokenInfo: {
    parameters: [
      ulong, // CK_SLOT_ID slotID
      ptr, // CK_TOKEN_INFO_PTR pInfo
    ],
    result: ulong,
    optional: true,
  },
  C_GetMechanismList: {
    parameters: [
      ulong, // CK_SLOT_ID slotID
      ptr, // CK_MECHANISM_TYPE_PTR pMechanismList
      ptr, // CK_ULONG_PTR pulCount
    ],
    result: ulong,
    optional: true,
  },
  C_GetMechanismInfo: {
    parameters: [
      ulong, // CK_SLOT_ID slotID
      ulong, // CK_MECHANISM_TYPE type
      ptr, // CK_MECHANISM_INFO_PTR pInfo
    ],
    result: ulong,
    optional: true,
  },
  C_InitToken: {
    parameters: [
      ulong, // CK_SLOT_ID slotID
      ptr, // CK_UTF8CHAR_PTR pPin
      ulong, // CK_ULONG ulPinLen
      ptr, // CK_UTF8CHAR_PTR pLabel (32 bytes, blank padded)
    ],
    result: ulong,
    optional: true,
  },
  C_InitPIN: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_UTF8CHAR_PTR pPin
      ulong, // CK_ULONG ulPinLen
    ],
    result: ulong,
    optional: true,
  },
  C_OpenSession: {
    parameters: [
      ulong, // CK_SLOT_ID slotID
      ulong, // CK_FLAGS flags
      ptr, // CK_VOID_PTR pApplication
      "pointer", // CK_NOTIFY Notify
      ptr, // CK_SESSION_HANDLE_PTR phSession
    ],
    result: ulong,
    optional: true,
  },
  C_CloseSession: {
    parameters: [ulong], // CK_SESSION_HANDLE hSession
    result: ulong,
    optional: true,
  },
  C_Login: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ulong, // CK_USER_TYPE userType
      ptr, // CK_UTF8CHAR_PTR pPin
      ulong, // CK_ULONG ulPinLen
    ],
    result: ulong,
    optional: true,
  },
  C_Logout: {
    parameters: [ulong], // CK_SESSION_HANDLE hSession
    result: ulong,
    optional: true,
  },
  C_CreateObject: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_ATTRIBUTE_PTR pTemplate
      ulong, // CK_ULONG ulCount
      ptr, // CK_OBJECT_HANDLE_PTR phObject
    ],
    result: ulong,
    optional: true,
  },
  C_DestroyObject: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ulong, // CK_OBJECT_HANDLE hObject
    ],
    result: ulong,
    optional: true,
  },
  C_GetAttributeValue: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ulong, // CK_OBJECT_HANDLE hObject
      ptr, // CK_ATTRIBUTE_PTR pTemplate
      ulong, // CK_ULONG ulCount
    ],
    result: ulong,
    optional: true,
  },
  C_SetAttributeValue: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ulong, // CK_OBJECT_HANDLE hObject
      ptr, // CK_ATTRIBUTE_PTR pTemplate
      ulong, // CK_ULONG ulCount
    ],
    result: ulong,
    optional: true,
  },
  C_FindObjectsInit: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_ATTRIBUTE_PTR pTemplate
      ulong, // CK_ULONG ulCount
    ],
    result: ulong,
    optional: true,
  },
  C_FindObjects: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_OBJECT_HANDLE_PTR phObject
      ulong, // CK_ULONG ulMaxObjectCount
      ptr, // CK_ULONG_PTR pulObjectCount
    ],
    result: ulong,
    optional: true,
  },
  C_FindObjectsFinal: {
    parameters: [ulong], // CK_SESSION_HANDLE hSession
    result: ulong,
    optional: true,
  },
  C_EncryptInit: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_MECHANISM_PTR pMechanism
      ulong, // CK_OBJECT_HANDLE hKey
    ],
    result: ulong,
    optional: true,
  },
  C_Encrypt: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_BYTE_PTR pData
      ulong, // CK_ULONG ulDataLen
      ptr, // CK_BYTE_PTR pEncryptedData
      ptr, // CK_ULONG_PTR pulEncryptedDataLen
    ],
    result: ulong,
    optional: true,
  },
  C_DecryptInit: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_MECHANISM_PTR pMechanism
      ulong, // CK_OBJECT_HANDLE hKey
    ],
    result: ulong,
    optional: true,
  },
  C_Decrypt: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_BYTE_PTR pEncryptedData
      ulong, // CK_ULONG ulEncryptedDataLen
      ptr, // CK_BYTE_PTR pData
      ptr, // CK_ULONG_PTR pulDataLen
    ],
    result: ulong,
    optional: true,
  },
  C_SignInit: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_MECHANISM_PTR pMechanism
      ulong, // CK_OBJECT_HANDLE hKey
    ],
    result: ulong,
    optional: true,
  },
  C_Sign: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_BYTE_PTR pData
      ulong, // CK_ULONG ulDataLen
      ptr, // CK_BYTE_PTR pSignature
      ptr, // CK_ULONG_PTR pulSignatureLen
    ],
    result: ulong,
    optional: true,
  },
  C_VerifyInit: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_MECHANISM_PTR pMechanism
      ulong, // CK_OBJECT_HANDLE hKey
    ],
    result: ulong,
    optional: true,
  },
  C_Verify: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_BYTE_PTR pData
      ulong, // CK_ULONG ulDataLen
      ptr, // CK_BYTE_PTR pSignature
      ulong, // CK_ULONG ulSignatureLen
    ],
    result: ulong,
    optional: true,
  },
  C_GenerateKey: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_MECHANISM_PTR pMechanism
      ptr, // CK_ATTRIBUTE_PTR pTemplate
      ulong, // CK_ULONG ulCount
      ptr, // CK_OBJECT_HANDLE_PTR phKey
    ],
    result: ulong,
    optional: true,
  },
  C_GenerateKeyPair: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_MECHANISM_PTR pMechanism
      ptr, // CK_ATTRIBUTE_PTR pPublicKeyTemplate
      ulong, // CK_ULONG ulPublicKeyAttributeCount
      ptr, // CK_ATTRIBUTE_PTR pPrivateKeyTemplate
      ulong, // CK_ULONG ulPrivateKeyAttributeCount
      ptr, // CK_OBJECT_HANDLE_PTR phPublicKey
      ptr, // CK_OBJECT_HANDLE_PTR phPrivateKey
    ],
    result: ulong,
    optional: true,
  },
  C_WrapKey: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_MECHANISM_PTR pMechanism
      ulong, // CK_OBJECT_HANDLE hWrappingKey
      ulong, // CK_OBJECT_HANDLE hKey
      ptr, // CK_BYTE_PTR pWrappedKey
      ptr, // CK_ULONG_PTR pulWrappedKeyLen
    ],
    result: ulong,
    optional: true,
  },
  C_UnwrapKey: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_MECHANISM_PTR pMechanism
      ulong, // CK_OBJECT_HANDLE hUnwrappingKey
      ptr, // CK_BYTE_PTR pWrappedKey
      ulong, // CK_ULONG ulWrappedKeyLen
      ptr, // CK_ATTRIBUTE_PTR pTemplate
      ulong, // CK_ULONG ulAttributeCount
      ptr, // CK_OBJECT_HANDLE_PTR phKey
    ],
    result: ulong,
    optional: true,
  },
  C_DeriveKey: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_MECHANISM_PTR pMechanism
      ulong, // CK_OBJECT_HANDLE hBaseKey
      ptr, // CK_ATTRIBUTE_PTR pTemplate
      ulong, // CK_ULONG ulAttributeCount
      ptr, // CK_OBJECT_HANDLE_PTR phKey
    ],
    result: ulong,
    optional: true,
  },
  C_GenerateRandom: {
    parameters: [
      ulong, // CK_SESSION_HANDLE hSession
      ptr, // CK_BYTE_PTR RandomData
      ulong, // CK_ULONG ulRandomLen
    ],
    result: ulong,
    optional: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** The symbols as a type, for `Deno.DynamicLibrary<Pkcs11Symbols>`. */
export type Pkcs11Symbols = typeof PKCS11_SYMBOLS;

/** The name of a function okms binds. */
export type Pkcs11FunctionName = keyof Pkcs11Symbols;

/**
 * The slots of `CK_FUNCTION_LIST` after its `CK_VERSION`, in the order of
 * pkcs11f.h. A function's pointer sits at byte `8 + 8 * index`.
 */
export const FUNCTION_LIST_ORDER = [
  "C_Initialize",
  "C_Finalize",
  "C_GetInfo",
  "C_GetFunctionList",
  "C_GetSlotList",
  "C_GetSlotInfo",
  "C_GetTokenInfo",
  "C_GetMechanismList",
  "C_GetMechanismInfo",
  "C_InitToken",
  "C_InitPIN",
  "C_SetPIN",
  "C_OpenSession",
  "C_CloseSession",
  "C_CloseAllSessions",
  "C_GetSessionInfo",
  "C_GetOperationState",
  "C_SetOperationState",
  "C_Login",
  "C_Logout",
  "C_CreateObject",
  "C_CopyObject",
  "C_DestroyObject",
  "C_GetObjectSize",
  "C_GetAttributeValue",
  "C_SetAttributeValue",
  "C_FindObjectsInit",
  "C_FindObjects",
  "C_FindObjectsFinal",
  "C_EncryptInit",
  "C_Encrypt",
  "C_EncryptUpdate",
  "C_EncryptFinal",
  "C_DecryptInit",
  "C_Decrypt",
  "C_DecryptUpdate",
  "C_DecryptFinal",
  "C_DigestInit",
  "C_Digest",
  "C_DigestUpdate",
  "C_DigestKey",
  "C_DigestFinal",
  "C_SignInit",
  "C_Sign",
  "C_SignUpdate",
  "C_SignFinal",
  "C_SignRecoverInit",
  "C_SignRecover",
  "C_VerifyInit",
  "C_Verify",
  "C_VerifyUpdate",
  "C_VerifyFinal",
  "C_VerifyRecoverInit",
  "C_VerifyRecover",
  "C_DigestEncryptUpdate",
  "C_DecryptDigestUpdate",
  "C_SignEncryptUpdate",
  "C_DecryptVerifyUpdate",
  "C_GenerateKey",
  "C_GenerateKeyPair",
  "C_WrapKey",
  "C_UnwrapKey",
  "C_DeriveKey",
  "C_SeedRandom",
  "C_GenerateRandom",
  "C_GetFunctionStatus",
  "C_CancelFunction",
  "C_WaitForSlotEvent",
] as const;

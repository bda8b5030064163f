/**
 * A loaded PKCS#11 module with typed, checked calls.
 * @module
 */
import { skipOpensslExitCleanup } from "./openssl_exit.ts";
import { CK_ULONG_SIZE, CKF, CKR } from "./constants.ts";
import { Pkcs11Error, Pkcs11LoadError } from "./errors.ts";
import {
  fixedBuffer,
  initializeArgs,
  type ReadTemplate,
  readUlong,
  type Template,
  writeUlong,
} from "./structs.ts";
import {
  FUNCTION_LIST_ORDER,
  PKCS11_SYMBOLS,
  type Pkcs11FunctionName,
  type Pkcs11Symbols,
} from "./symbols.ts";

type Symbols = Deno.DynamicLibrary<Pkcs11Symbols>["symbols"];
/** A 64-bit parameter takes a number as well as a bigint at run time. */
type Widened<Args> = {
  [I in keyof Args]: Args[I] extends bigint ? number | bigint
    : Args[I];
};
type Bound<F> = F extends (...args: infer A) => infer R
  ? (...args: Widened<A>) => R
  : never;
/** The bound functions, every one present (checked by {@linkcode Pkcs11.load}). */
type Functions = { [Name in keyof Symbols]: Bound<NonNullable<Symbols[Name]>> };

/**
 * A `CK_MECHANISM` and the memory it points at: methods take the owning
 * object, not just its bytes, so the parameter buffers cannot be collected
 * while C reads them.
 */
export interface MechanismStruct {
  readonly struct: Uint8Array;
}

/** What `C_GetTokenInfo` says of a token (blank padding trimmed). */
export interface TokenInfo {
  label: string;
  manufacturerId: string;
  model: string;
  serialNumber: string;
  flags: number;
}

/** What `C_GetMechanismInfo` says of a mechanism. */
export interface MechanismInfo {
  minKeySize: number;
  maxKeySize: number;
  flags: number;
}

/** How to load a module. */
export interface LoadOptions {
  /**
   * Reach the functions through `C_GetFunctionList` even when the module
   * exports them (for testing the path other modules need).
   */
  viaFunctionList?: boolean;
}

const MAX_OBJECTS_PER_FIND = 64;

/**
 * A PKCS#11 module opened with `Deno.dlopen`.
 *
 * Each method wraps one `C_*` function: it keeps every buffer it passes
 * referenced until the call returns and turns any return value other than
 * `CKR_OK` into a {@linkcode Pkcs11Error}. Calls are synchronous: PKCS#11
 * sessions run one operation at a time, and a synchronous call cannot be
 * interleaved with another on the same thread.
 *
 * @example
 * ```ts
 * const p11 = Pkcs11.load("/usr/lib/softhsm/libsofthsm2.so");
 * p11.initialize();
 * const [slot] = p11.getSlotList(true);
 * console.log(p11.getTokenInfo(slot).label);
 * p11.finalize();
 * p11.close();
 * ```
 */
export class Pkcs11 {
  /** The module file this binding loaded. */
  readonly path: string;
  /** Whether the functions came from `C_GetFunctionList`. */
  readonly viaFunctionList: boolean;
  readonly #library: Deno.DynamicLibrary<Pkcs11Symbols>;
  readonly #fn: Functions;
  readonly #count = fixedBuffer(CK_ULONG_SIZE);
  readonly #handle = fixedBuffer(CK_ULONG_SIZE);
  readonly #secondHandle = fixedBuffer(CK_ULONG_SIZE);

  private constructor(
    path: string,
    library: Deno.DynamicLibrary<Pkcs11Symbols>,
    fn: Functions,
    viaFunctionList: boolean,
  ) {
    this.path = path;
    this.#library = library;
    this.#fn = fn;
    this.viaFunctionList = viaFunctionList;
  }

  /**
   * Opens the module at `path`: its exported `C_*` symbols when it has them
   * all, else the table that `C_GetFunctionList` returns.
   *
   * @throws {Pkcs11LoadError} when the file cannot be loaded or offers
   * neither.
   */
  static load(path: string, options: LoadOptions = {}): Pkcs11 {
    skipOpensslExitCleanup();
    let library: Deno.DynamicLibrary<Pkcs11Symbols>;
    try {
      library = Deno.dlopen(path, PKCS11_SYMBOLS);
    } catch (error) {
      throw new Pkcs11LoadError(
        `cannot load PKCS#11 module ${path}: ${(error as Error).message}`,
      );
    }
    const exported = Object.values(library.symbols).every((f) => f !== null);
    if (exported && !options.viaFunctionList) {
      return new Pkcs11(path, library, library.symbols as Functions, false);
    }
    try {
      return new Pkcs11(path, library, functionTable(path), true);
    } catch (error) {
      library.close();
      throw error;
    }
  }

  /** `C_Initialize` with `CKF_OS_LOCKING_OK`; already initialized is fine. */
  initialize(): void {
    const rv = Number(this.#fn.C_Initialize(initializeArgs(CKF.OS_LOCKING_OK)));
    if (rv !== CKR.OK && rv !== CKR.CRYPTOKI_ALREADY_INITIALIZED) {
      throw new Pkcs11Error("C_Initialize", rv);
    }
  }

  /** `C_Finalize`. */
  finalize(): void {
    check("C_Finalize", this.#fn.C_Finalize(null));
  }

  /** Unloads the module (after {@linkcode finalize}). */
  close(): void {
    this.#library.close();
  }

  /** `C_GetSlotList`: the slot ids, only those with a token when asked. */
  getSlotList(tokenPresent: boolean): number[] {
    const flag = tokenPresent ? 1 : 0;
    check("C_GetSlotList", this.#fn.C_GetSlotList(flag, null, this.#count));
    const slots = fixedBuffer(readUlong(this.#count) * CK_ULONG_SIZE);
    check("C_GetSlotList", this.#fn.C_GetSlotList(flag, slots, this.#count));
    return readUlongs(slots, readUlong(this.#count));
  }

  /** `C_GetTokenInfo`. */
  getTokenInfo(slot: number): TokenInfo {
    const info = fixedBuffer(256); // sizeof(CK_TOKEN_INFO) is 208 on LP64
    check("C_GetTokenInfo", this.#fn.C_GetTokenInfo(slot, info));
    const text = (from: number, to: number) =>
      new TextDecoder().decode(info.subarray(from, to)).trimEnd();
    return {
      label: text(0, 32),
      manufacturerId: text(32, 64),
      model: text(64, 80),
      serialNumber: text(80, 96),
      flags: readUlong(info, 96),
    };
  }

  /** `C_GetMechanismList`: the `CKM_*` types the token's slot offers. */
  getMechanismList(slot: number): number[] {
    check(
      "C_GetMechanismList",
      this.#fn.C_GetMechanismList(slot, null, this.#count),
    );
    const list = fixedBuffer(readUlong(this.#count) * CK_ULONG_SIZE);
    check(
      "C_GetMechanismList",
      this.#fn.C_GetMechanismList(slot, list, this.#count),
    );
    return readUlongs(list, readUlong(this.#count));
  }

  /** `C_GetMechanismInfo`. */
  getMechanismInfo(slot: number, mechanism: number): MechanismInfo {
    const info = fixedBuffer(3 * CK_ULONG_SIZE);
    check(
      "C_GetMechanismInfo",
      this.#fn.C_GetMechanismInfo(slot, mechanism, info),
    );
    return {
      minKeySize: readUlong(info, 0),
      maxKeySize: readUlong(info, 8),
      flags: readUlong(info, 16),
    };
  }

  /** `C_InitToken`: (re)initializes the token in `slot` with an SO PIN. */
  initToken(slot: number, soPin: Uint8Array, label: string): void {
    const padded = fixedBuffer(32).fill(0x20);
    padded.set(new TextEncoder().encode(label).subarray(0, 32));
    check(
      "C_InitToken",
      this.#fn.C_InitToken(slot, soPin, soPin.byteLength, padded),
    );
  }

  /** `C_InitPIN`: sets the user PIN (in an SO session). */
  initPin(session: number, pin: Uint8Array): void {
    check("C_InitPIN", this.#fn.C_InitPIN(session, pin, pin.byteLength));
  }

  /** `C_OpenSession`; `CKF_SERIAL_SESSION` is always added. */
  openSession(slot: number, flags: number): number {
    check(
      "C_OpenSession",
      this.#fn.C_OpenSession(
        slot,
        flags | CKF.SERIAL_SESSION,
        null,
        null,
        this.#handle,
      ),
    );
    return readUlong(this.#handle);
  }

  /** `C_CloseSession`. */
  closeSession(session: number): void {
    check("C_CloseSession", this.#fn.C_CloseSession(session));
  }

  /** `C_Login`; already logged in is fine. */
  login(session: number, userType: number, pin: Uint8Array): void {
    const rv = Number(
      this.#fn.C_Login(session, userType, pin, pin.byteLength),
    );
    if (rv !== CKR.OK && rv !== CKR.USER_ALREADY_LOGGED_IN) {
      throw new Pkcs11Error("C_Login", rv);
    }
  }

  /** `C_Logout`. */
  logout(session: number): void {
    check("C_Logout", this.#fn.C_Logout(session));
  }

  /** `C_GenerateKey`: a new key object from `mechanism` and `template`. */
  generateKey(
    session: number,
    mechanism: MechanismStruct,
    template: Template,
  ): number {
    check(
      "C_GenerateKey",
      this.#fn.C_GenerateKey(
        session,
        mechanism.struct,
        template.struct,
        template.count,
        this.#handle,
      ),
    );
    return readUlong(this.#handle);
  }

  /**
   * `C_GenerateKeyPair`: a new public and private key object from
   * `mechanism` and one template each.
   */
  generateKeyPair(
    session: number,
    mechanism: MechanismStruct,
    publicTemplate: Template,
    privateTemplate: Template,
  ): { publicKey: number; privateKey: number } {
    check(
      "C_GenerateKeyPair",
      this.#fn.C_GenerateKeyPair(
        session,
        mechanism.struct,
        publicTemplate.struct,
        publicTemplate.count,
        privateTemplate.struct,
        privateTemplate.count,
        this.#handle,
        this.#secondHandle,
      ),
    );
    return {
      publicKey: readUlong(this.#handle),
      privateKey: readUlong(this.#secondHandle),
    };
  }

  /** `C_CreateObject`: a new object made of `template` alone. */
  createObject(session: number, template: Template): number {
    check(
      "C_CreateObject",
      this.#fn.C_CreateObject(
        session,
        template.struct,
        template.count,
        this.#handle,
      ),
    );
    return readUlong(this.#handle);
  }

  /**
   * `C_WrapKey`: `key` encrypted under `wrappingKey`, written into `output`;
   * returns the bytes written. `output` must be large enough (a 256-bit key
   * wraps into 40 bytes with `CKM_AES_KEY_WRAP` and `CKM_AES_KEY_WRAP_PAD`,
   * into the modulus length with `CKM_RSA_PKCS_OAEP`: 384 bytes for 3072 bits).
   */
  wrapKey(
    session: number,
    mechanism: MechanismStruct,
    wrappingKey: number,
    key: number,
    output: Uint8Array,
  ): number {
    writeUlong(this.#count, output.byteLength);
    check(
      "C_WrapKey",
      this.#fn.C_WrapKey(
        session,
        mechanism.struct,
        wrappingKey,
        key,
        output,
        this.#count,
      ),
    );
    return readUlong(this.#count);
  }

  /** `C_UnwrapKey`: a new key object from `wrapped` and `template`. */
  unwrapKey(
    session: number,
    mechanism: MechanismStruct,
    unwrappingKey: number,
    wrapped: Uint8Array,
    template: Template,
  ): number {
    check(
      "C_UnwrapKey",
      this.#fn.C_UnwrapKey(
        session,
        mechanism.struct,
        unwrappingKey,
        wrapped,
        wrapped.byteLength,
        template.struct,
        template.count,
        this.#handle,
      ),
    );
    return readUlong(this.#handle);
  }

  /** `C_FindObjectsInit`/`C_FindObjects`/`C_FindObjectsFinal`: every match. */
  findObjects(session: number, template: Template): number[] {
    check(
      "C_FindObjectsInit",
      this.#fn.C_FindObjectsInit(session, template.struct, template.count),
    );
    const found: number[] = [];
    const batch = fixedBuffer(MAX_OBJECTS_PER_FIND * CK_ULONG_SIZE);
    try {
      for (;;) {
        check(
          "C_FindObjects",
          this.#fn.C_FindObjects(
            session,
            batch,
            MAX_OBJECTS_PER_FIND,
            this.#count,
          ),
        );
        const n = readUlong(this.#count);
        found.push(...readUlongs(batch, n));
        if (n < MAX_OBJECTS_PER_FIND) return found;
      }
    } finally {
      check("C_FindObjectsFinal", this.#fn.C_FindObjectsFinal(session));
    }
  }

  /**
   * `C_GetAttributeValue`. Attributes the module will not reveal read as
   * `undefined` from the template: the module then answers
   * `CKR_ATTRIBUTE_SENSITIVE` or `CKR_ATTRIBUTE_TYPE_INVALID`, which this
   * method returns instead of throwing.
   */
  getAttributeValue(
    session: number,
    object: number,
    template: ReadTemplate,
  ): number {
    const rv = Number(
      this.#fn.C_GetAttributeValue(
        session,
        object,
        template.struct,
        template.count,
      ),
    );
    if (
      rv !== CKR.OK && rv !== CKR.ATTRIBUTE_SENSITIVE &&
      rv !== CKR.ATTRIBUTE_TYPE_INVALID
    ) {
      throw new Pkcs11Error("C_GetAttributeValue", rv);
    }
    return rv;
  }

  /** `C_SetAttributeValue`. */
  setAttributeValue(session: number, object: number, template: Template): void {
    check(
      "C_SetAttributeValue",
      this.#fn.C_SetAttributeValue(
        session,
        object,
        template.struct,
        template.count,
      ),
    );
  }

  /** `C_DestroyObject`. */
  destroyObject(session: number, object: number): void {
    check("C_DestroyObject", this.#fn.C_DestroyObject(session, object));
  }

  /** `C_EncryptInit`. */
  encryptInit(session: number, mechanism: MechanismStruct, key: number): void {
    check(
      "C_EncryptInit",
      this.#fn.C_EncryptInit(session, mechanism.struct, key),
    );
  }

  /**
   * `C_Encrypt` (single part) into `output`; returns the bytes written.
   * `output` must be large enough: a short buffer ends the operation.
   */
  encrypt(session: number, data: Uint8Array, output: Uint8Array): number {
    writeUlong(this.#count, output.byteLength);
    check(
      "C_Encrypt",
      this.#fn.C_Encrypt(
        session,
        data,
        data.byteLength,
        output,
        this.#count,
      ),
    );
    return readUlong(this.#count);
  }

  /** `C_DecryptInit`. */
  decryptInit(session: number, mechanism: MechanismStruct, key: number): void {
    check(
      "C_DecryptInit",
      this.#fn.C_DecryptInit(session, mechanism.struct, key),
    );
  }

  /** `C_Decrypt` (single part) into `output`; returns the bytes written. */
  decrypt(session: number, data: Uint8Array, output: Uint8Array): number {
    writeUlong(this.#count, output.byteLength);
    check(
      "C_Decrypt",
      this.#fn.C_Decrypt(
        session,
        data,
        data.byteLength,
        output,
        this.#count,
      ),
    );
    return readUlong(this.#count);
  }

  /** `C_SignInit`. */
  signInit(session: number, mechanism: MechanismStruct, key: number): void {
    check("C_SignInit", this.#fn.C_SignInit(session, mechanism.struct, key));
  }

  /**
   * `C_Sign` (single part) of `data` into `output`; returns the bytes
   * written. `output` must be large enough (the modulus length for RSA,
   * twice the order's length for ECDSA, 64 bytes for Ed25519, the hash
   * length for HMAC): a short buffer ends the operation.
   */
  sign(session: number, data: Uint8Array, output: Uint8Array): number {
    writeUlong(this.#count, output.byteLength);
    check(
      "C_Sign",
      this.#fn.C_Sign(
        session,
        nonNull(data),
        data.byteLength,
        output,
        this.#count,
      ),
    );
    return readUlong(this.#count);
  }

  /** `C_VerifyInit`. */
  verifyInit(session: number, mechanism: MechanismStruct, key: number): void {
    check(
      "C_VerifyInit",
      this.#fn.C_VerifyInit(session, mechanism.struct, key),
    );
  }

  /**
   * `C_Verify` (single part): whether `signature` is valid for `data`.
   * `CKR_SIGNATURE_INVALID` and `CKR_SIGNATURE_LEN_RANGE` answer `false`;
   * any other failure throws.
   */
  verify(session: number, data: Uint8Array, signature: Uint8Array): boolean {
    const rv = Number(
      this.#fn.C_Verify(
        session,
        nonNull(data),
        data.byteLength,
        nonNull(signature),
        signature.byteLength,
      ),
    );
    if (rv === CKR.SIGNATURE_INVALID || rv === CKR.SIGNATURE_LEN_RANGE) {
      return false;
    }
    check("C_Verify", rv);
    return true;
  }

  /** `C_DeriveKey`: a new key object from `baseKey`, `mechanism` and `template`. */
  deriveKey(
    session: number,
    mechanism: MechanismStruct,
    baseKey: number,
    template: Template,
  ): number {
    check(
      "C_DeriveKey",
      this.#fn.C_DeriveKey(
        session,
        mechanism.struct,
        baseKey,
        template.struct,
        template.count,
        this.#handle,
      ),
    );
    return readUlong(this.#handle);
  }

  /** `C_GenerateRandom`: fills `output` from the token's RNG. */
  generateRandom(session: number, output: Uint8Array): void {
    check(
      "C_GenerateRandom",
      this.#fn.C_GenerateRandom(session, output, output.byteLength),
    );
  }
}

function check(fn: Pkcs11FunctionName, rv: number | bigint): void {
  if (Number(rv) !== CKR.OK) throw new Pkcs11Error(fn, Number(rv));
}

/**
 * `data`, or a one-byte buffer in its place when it is empty: an empty
 * `Uint8Array` reaches C as NULL, which modules refuse even with a zero
 * length (`CKR_ARGUMENTS_BAD`). The length passed stays `data`'s.
 */
function nonNull(data: Uint8Array): Uint8Array {
  return data.byteLength === 0 ? ONE_BYTE : data;
}
const ONE_BYTE = fixedBuffer(1);

function readUlongs(buffer: Uint8Array, count: number): number[] {
  return Array.from({ length: count }, (_, i) => readUlong(buffer, i * 8));
}

/** The bound functions, from the table `C_GetFunctionList` returns. */
function functionTable(path: string): Functions {
  let lister: Deno.DynamicLibrary<{
    C_GetFunctionList: { parameters: ["buffer"]; result: "u64" };
  }>;
  try {
    lister = Deno.dlopen(path, {
      // CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
      C_GetFunctionList: { parameters: ["buffer"], result: "u64" },
    });
  } catch {
    throw new Pkcs11LoadError(
      `PKCS#11 module ${path} exports neither the C_* functions nor C_GetFunctionList`,
    );
  }
  const out = fixedBuffer(CK_ULONG_SIZE);
  const rv = Number(lister.symbols.C_GetFunctionList(out));
  if (rv !== CKR.OK) throw new Pkcs11Error("C_GetFunctionList", rv);
  const list = Deno.UnsafePointer.create(
    new DataView(out.buffer).getBigUint64(0, true),
  );
  if (list === null) {
    throw new Pkcs11LoadError(`C_GetFunctionList of ${path} returned NULL`);
  }
  const table = new Deno.UnsafePointerView(list);
  const bound: Record<string, unknown> = {};
  for (const [name, definition] of Object.entries(PKCS11_SYMBOLS)) {
    const slot = FUNCTION_LIST_ORDER.indexOf(name as Pkcs11FunctionName);
    const pointer = Deno.UnsafePointer.create(
      table.getBigUint64(CK_ULONG_SIZE * (1 + slot)),
    );
    if (pointer === null) {
      throw new Pkcs11LoadError(`PKCS#11 module ${path} lacks ${name}`);
    }
    const fn = new Deno.UnsafeFnPointer(
      pointer as Deno.PointerObject<Deno.ForeignFunction>,
      definition as Deno.ForeignFunction,
    );
    bound[name] = fn.call.bind(fn);
  }
  // The lister library stays open: closing it could unload the table's code.
  return bound as Functions;
}

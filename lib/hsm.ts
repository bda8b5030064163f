/**
 * One logged-in session on one PKCS#11 token: the HSM as okms uses it.
 * @module
 */
import {
  AesGcmMechanism,
  CKA,
  CKF,
  CKK,
  CKM,
  CKO,
  CKU,
  Mechanism,
  Pkcs11,
  Pkcs11LoadError,
  ReadTemplate,
  Template,
} from "../ffi/mod.ts";
import type {
  Attribute,
  GcmInput,
  MechanismStruct,
  TokenInfo,
} from "../ffi/mod.ts";
import { KMSInternalException } from "./errors.ts";

/** Where the token is and how to log in to it. */
export interface HsmOptions {
  /** Path of the PKCS#11 module. */
  modulePath: string;
  /** Label of the token to use. */
  tokenLabel: string;
  /** The user PIN. It is zeroed by {@linkcode Hsm.close}. */
  pin: Uint8Array;
  /**
   * When no token has `tokenLabel`, initialize the first free slot's token
   * with it, with this SO PIN, and set the user PIN (embedded SoftHSM2).
   */
  initializeWithSoPin?: Uint8Array;
  /** Bind through `C_GetFunctionList` even when symbols are exported. */
  viaFunctionList?: boolean;
}

/** The HSM operations whose durations an {@linkcode HsmObserver} sees. */
export type HsmCall =
  | "encrypt"
  | "decrypt"
  | "random"
  | "generate_key"
  | "generate_key_pair"
  | "find"
  | "wrap"
  | "unwrap"
  | "sign"
  | "verify"
  | "derive";

/** Receives an HSM operation and its duration in seconds (e.g. for metrics). */
export type HsmObserver = (call: HsmCall, seconds: number) => void;

/** One loaded module, shared by every {@linkcode Hsm} of this process. */
interface LoadedModule {
  p11: Pkcs11;
  users: number;
}
const loaded = new Map<string, LoadedModule>();

function acquireModule(path: string, viaFunctionList: boolean): Pkcs11 {
  let entry = loaded.get(path);
  if (entry === undefined) {
    const p11 = Pkcs11.load(path, { viaFunctionList });
    try {
      p11.initialize();
    } catch (error) {
      p11.close();
      const hint = /softhsm/i.test(path)
        ? ` (SoftHSM2 reads SOFTHSM2_CONF=${
          Deno.env.get("SOFTHSM2_CONF") ?? "its default"
        }: check that file and its tokendir)`
        : "";
      throw new Pkcs11LoadError(
        `cannot initialize PKCS#11 module ${path}: ${
          (error as Error).message
        }${hint}`,
      );
    }
    entry = { p11, users: 0 };
    loaded.set(path, entry);
  }
  entry.users++;
  return entry.p11;
}

function releaseModule(path: string): void {
  const entry = loaded.get(path);
  if (entry === undefined || --entry.users > 0) return;
  loaded.delete(path);
  entry.p11.finalize();
  entry.p11.close();
}

/** Whether a module is loaded and initialized in this process. */
export function isModuleLoaded(path: string): boolean {
  return loaded.has(path);
}

const TOKEN_LABEL_BYTES = 32;

/**
 * A logged-in read/write session on one token, with a preallocated AES-GCM
 * mechanism: the encrypt and decrypt hot path allocates nothing but output.
 *
 * Every method is synchronous, so two operations can never interleave on the
 * session (no `CKR_OPERATION_ACTIVE` under concurrent callers).
 *
 * @example
 * ```ts
 * const hsm = Hsm.open({ modulePath, tokenLabel: "okms", pin });
 * const random = hsm.random(32);
 * hsm.close();
 * ```
 */
export class Hsm {
  /** The module's path, as given. */
  readonly modulePath: string;
  /** What `C_GetTokenInfo` said of the token when the session opened. */
  readonly token: Readonly<TokenInfo>;
  readonly #p11: Pkcs11;
  readonly #slot: number;
  readonly #sessionHandle: number;
  readonly #gcm = new AesGcmMechanism();
  readonly #aesKeyGen = new Mechanism(CKM.AES_KEY_GEN);
  /** Parameterless mechanisms (key wrapping), made once each. */
  readonly #plain = new Map<number, Mechanism>();
  /**
   * Wrapped keys are written here, then copied out at their length: 40
   * bytes for an AES-256 key under AES key wrap, the modulus length (up to
   * 512 bytes for RSA 4096) under RSA-OAEP, and a private key's PKCS#8
   * encoding padded under AES key wrap with padding (2384 bytes for RSA
   * 4096 on SoftHSM2 2.6.1).
   */
  readonly #wrapped = new Uint8Array(new ArrayBuffer(4096));
  /**
   * Signatures, MACs and RSA plaintexts are written here, then copied out
   * at their length (at most the modulus length: 512 bytes for RSA 4096).
   */
  readonly #output = new Uint8Array(new ArrayBuffer(512));
  #mechanisms: ReadonlySet<number> | undefined;
  #open = true;
  /** Receives the duration of every successful call, when set. */
  observer: HsmObserver | undefined;

  private constructor(
    p11: Pkcs11,
    modulePath: string,
    slot: number,
    session: number,
  ) {
    this.#p11 = p11;
    this.modulePath = modulePath;
    this.#slot = slot;
    this.token = p11.getTokenInfo(slot);
    this.#sessionHandle = session;
  }

  /**
   * Loads the module (once per process), finds the token by label, opens a
   * session and logs the user in.
   *
   * @throws {Error} naming the label when no token has it.
   */
  static open(options: HsmOptions): Hsm {
    if (
      new TextEncoder().encode(options.tokenLabel).length > TOKEN_LABEL_BYTES
    ) {
      throw new RangeError("a PKCS#11 token label is at most 32 bytes");
    }
    const p11 = acquireModule(
      options.modulePath,
      options.viaFunctionList ?? false,
    );
    try {
      const slot = findSlot(p11, options.tokenLabel) ??
        initializeToken(p11, options);
      const session = p11.openSession(slot, CKF.RW_SESSION);
      try {
        p11.login(session, CKU.USER, options.pin);
      } catch (error) {
        p11.closeSession(session);
        throw error;
      }
      return new Hsm(p11, options.modulePath, slot, session);
    } catch (error) {
      releaseModule(options.modulePath);
      throw error;
    } finally {
      options.pin.fill(0);
      options.initializeWithSoPin?.fill(0);
    }
  }

  /** The PKCS#11 binding (for tests and benchmarks of the floor). */
  get p11(): Pkcs11 {
    return this.#p11;
  }

  /**
   * The session handle; after {@linkcode close} it throws instead, since a
   * call into the unloaded module would crash the process.
   */
  get session(): number {
    if (!this.#open) throw new KMSInternalException("okms is closed");
    return this.#sessionHandle;
  }

  /**
   * AES-GCM encrypts `plaintext` under `key` with the IV and AAD of `gcm`,
   * writing ciphertext and 16-byte tag into `output`; returns the bytes
   * written.
   */
  encrypt(
    key: number,
    gcm: GcmInput,
    plaintext: Uint8Array,
    output: Uint8Array,
  ): number {
    const started = this.#started();
    this.#gcm.set(gcm);
    this.#p11.encryptInit(this.session, this.#gcm, key);
    const written = this.#p11.encrypt(this.#sessionHandle, plaintext, output);
    this.#observe("encrypt", started);
    return written;
  }

  /**
   * AES-GCM decrypts `sealed` (ciphertext ‖ tag) with the IV and AAD of
   * `gcm` into `output`; returns the bytes written. A wrong tag throws the
   * module's error from `C_Decrypt`.
   */
  decrypt(
    key: number,
    gcm: GcmInput,
    sealed: Uint8Array,
    output: Uint8Array,
  ): number {
    const started = this.#started();
    this.#gcm.set(gcm);
    this.#p11.decryptInit(this.session, this.#gcm, key);
    const written = this.#p11.decrypt(this.#sessionHandle, sealed, output);
    this.#observe("decrypt", started);
    return written;
  }

  /** `length` bytes from the token's random number generator. */
  random(length: number): Uint8Array<ArrayBuffer> {
    const started = this.#started();
    const out = new Uint8Array(length);
    this.#p11.generateRandom(this.session, out);
    this.#observe("random", started);
    return out;
  }

  /** Generates an AES key object from `template`; returns its handle. */
  generateAesKey(template: readonly Attribute[]): number {
    const started = this.#started();
    const handle = this.#p11.generateKey(
      this.session,
      this.#aesKeyGen,
      new Template(template),
    );
    this.#observe("generate_key", started);
    return handle;
  }

  /** The `CKM_*` mechanisms the token offers (`C_GetMechanismList`, asked once). */
  get mechanisms(): ReadonlySet<number> {
    this.#mechanisms ??= new Set(this.#p11.getMechanismList(this.#slot));
    return this.#mechanisms;
  }

  /**
   * Encrypts the key `key` under `wrappingKey`; returns the wrapped key.
   * `mechanism` is a parameterless wrap mechanism (`CKM_AES_KEY_WRAP_PAD`,
   * `CKM_AES_KEY_WRAP`) or a mechanism with its parameters (RSA-OAEP, see
   * `oaepMechanism`).
   *
   * @example
   * ```ts
   * const blob = hsm.wrap(CKM.AES_KEY_WRAP_PAD, domainKey, cmk);
   * const forTransfer = hsm.wrap(oaepMechanism("SHA-1"), rsaPublicKey, domainKey);
   * ```
   */
  wrap(
    mechanism: number | MechanismStruct,
    wrappingKey: number,
    key: number,
  ): Uint8Array {
    const started = this.#started();
    const length = this.#p11.wrapKey(
      this.session,
      this.#mechanism(mechanism),
      wrappingKey,
      key,
      this.#wrapped,
    );
    const wrapped = this.#wrapped.slice(0, length);
    this.#wrapped.fill(0, 0, length);
    this.#observe("wrap", started);
    return wrapped;
  }

  /**
   * Makes a key object from `wrapped` (as {@linkcode wrap} made it, with the
   * same mechanism) and `template`; returns its handle.
   *
   * @example
   * ```ts
   * const cmk = hsm.unwrap(CKM.AES_KEY_WRAP_PAD, domainKey, blob, CMK_IN_USE);
   * ```
   */
  unwrap(
    mechanism: number | MechanismStruct,
    unwrappingKey: number,
    wrapped: Uint8Array,
    template: readonly Attribute[],
  ): number {
    const started = this.#started();
    const handle = this.#p11.unwrapKey(
      this.session,
      this.#mechanism(mechanism),
      unwrappingKey,
      wrapped,
      new Template(template),
    );
    this.#observe("unwrap", started);
    return handle;
  }

  /**
   * Generates a secret key (`C_GenerateKey`) with the parameterless
   * `mechanism`, e.g. `CKM_GENERIC_SECRET_KEY_GEN` for an HMAC key; returns
   * its handle.
   *
   * @example
   * ```ts
   * const hmacKey = hsm.generateKey(CKM.GENERIC_SECRET_KEY_GEN, [
   *   [CKA.CLASS, CKO.SECRET_KEY], [CKA.KEY_TYPE, CKK.GENERIC_SECRET], [CKA.VALUE_LEN, 32],
   *   [CKA.TOKEN, false], [CKA.SENSITIVE, true], [CKA.SIGN, true], [CKA.VERIFY, true],
   * ]);
   * ```
   */
  generateKey(mechanism: number, template: readonly Attribute[]): number {
    const started = this.#started();
    const handle = this.#p11.generateKey(
      this.session,
      this.#mechanism(mechanism),
      new Template(template),
    );
    this.#observe("generate_key", started);
    return handle;
  }

  /**
   * Generates a key pair (`C_GenerateKeyPair`) with the parameterless
   * `mechanism` (`CKM_RSA_PKCS_KEY_PAIR_GEN`, `CKM_EC_KEY_PAIR_GEN`,
   * `CKM_EC_EDWARDS_KEY_PAIR_GEN`) from one template per key; returns both
   * handles.
   *
   * @example
   * ```ts
   * const { publicKey, privateKey } = hsm.generateKeyPair(
   *   CKM.EC_KEY_PAIR_GEN,
   *   [[CKA.TOKEN, false], [CKA.EC_PARAMS, P256_OID], [CKA.VERIFY, true]],
   *   [[CKA.TOKEN, false], [CKA.SENSITIVE, true], [CKA.EXTRACTABLE, false], [CKA.SIGN, true]],
   * );
   * ```
   */
  generateKeyPair(
    mechanism: number,
    publicTemplate: readonly Attribute[],
    privateTemplate: readonly Attribute[],
  ): { publicKey: number; privateKey: number } {
    const started = this.#started();
    const pair = this.#p11.generateKeyPair(
      this.session,
      this.#mechanism(mechanism),
      new Template(publicTemplate),
      new Template(privateTemplate),
    );
    this.#observe("generate_key_pair", started);
    return pair;
  }

  /**
   * Signs `data` (`C_SignInit` and single-part `C_Sign`) with `key`:
   * `mechanism` is a parameterless one (`CKM_ECDSA` on a digest,
   * `CKM_EDDSA`, `CKM_SHA256_HMAC`, …) or a mechanism with its parameters
   * (RSA-PSS, see `pssMechanism`). Returns the signature or MAC.
   *
   * @example
   * ```ts
   * const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", message));
   * const rawSignature = hsm.sign(CKM.ECDSA, privateKey, digest); // r ‖ s
   * ```
   */
  sign(
    mechanism: number | MechanismStruct,
    key: number,
    data: Uint8Array,
  ): Uint8Array<ArrayBuffer> {
    return this.#singlePart(
      "sign",
      () => this.#p11.signInit(this.session, this.#mechanism(mechanism), key),
      () => this.#p11.sign(this.#sessionHandle, data, this.#output),
    );
  }

  /**
   * Whether `signature` is `key`'s valid signature (or MAC) of `data`
   * (`C_VerifyInit` and single-part `C_Verify`), with the mechanism
   * {@linkcode sign} took. An invalid signature is `false`; a refused key
   * or mechanism throws the module's error.
   *
   * @example
   * ```ts
   * if (!hsm.verify(CKM.ECDSA, publicKey, digest, rawSignature)) throw new Error("forged");
   * ```
   */
  verify(
    mechanism: number | MechanismStruct,
    key: number,
    data: Uint8Array,
    signature: Uint8Array,
  ): boolean {
    const started = this.#started();
    this.#p11.verifyInit(this.session, this.#mechanism(mechanism), key);
    const valid = this.#p11.verify(this.#sessionHandle, data, signature);
    this.#observe("verify", started);
    return valid;
  }

  /**
   * Encrypts `plaintext` (single-part `C_Encrypt`) under `key` with a
   * mechanism other than the AES-GCM of {@linkcode encrypt}: RSA-OAEP under
   * a public key. Returns the ciphertext.
   *
   * @example
   * ```ts
   * const ciphertext = hsm.encryptWith(oaepMechanism("SHA-1"), rsaPublicKey, plaintext);
   * ```
   */
  encryptWith(
    mechanism: number | MechanismStruct,
    key: number,
    plaintext: Uint8Array,
  ): Uint8Array<ArrayBuffer> {
    return this.#singlePart(
      "encrypt",
      () =>
        this.#p11.encryptInit(this.session, this.#mechanism(mechanism), key),
      () => this.#p11.encrypt(this.#sessionHandle, plaintext, this.#output),
    );
  }

  /**
   * Decrypts `ciphertext` (single-part `C_Decrypt`) with `key` and a
   * mechanism other than the AES-GCM of {@linkcode decrypt}: RSA-OAEP, or
   * raw RSA (`CKM_RSA_X_509`). Returns the plaintext, which the caller owns
   * and should zero after use; the internal buffer is zeroed.
   *
   * @example
   * ```ts
   * const plaintext = hsm.decryptWith(oaepMechanism("SHA-1"), rsaPrivateKey, ciphertext);
   * ```
   */
  decryptWith(
    mechanism: number | MechanismStruct,
    key: number,
    ciphertext: Uint8Array,
  ): Uint8Array<ArrayBuffer> {
    return this.#singlePart(
      "decrypt",
      () =>
        this.#p11.decryptInit(this.session, this.#mechanism(mechanism), key),
      () => this.#p11.decrypt(this.#sessionHandle, ciphertext, this.#output),
    );
  }

  /**
   * Derives a secret from `baseKey` (`C_DeriveKey`, e.g. ECDH with
   * `EcdhMechanism`) and returns its value, read once: the derived key is
   * a session generic secret with no use at all (no encrypt, sign, derive
   * or wrap), readable only so that its value can be returned, and it is
   * destroyed before this returns. The caller owns the value and should
   * zero it after use.
   *
   * @example
   * ```ts
   * const sharedSecret = hsm.deriveSecret(new EcdhMechanism(peerPoint), privateKey);
   * ```
   */
  deriveSecret(mechanism: MechanismStruct, baseKey: number): Uint8Array {
    const started = this.#started();
    const derived = this.#p11.deriveKey(
      this.session,
      mechanism,
      baseKey,
      new Template(READ_ONCE_SECRET),
    );
    const template = new ReadTemplate([[CKA.VALUE, this.#output.byteLength]]);
    try {
      this.#p11.getAttributeValue(this.#sessionHandle, derived, template);
      const value = template.value(0);
      if (value === undefined) {
        throw new Error(`HSM derived key ${derived} has no readable value`);
      }
      this.#observe("derive", started);
      return value;
    } finally {
      template.clear();
      this.#p11.destroyObject(this.#sessionHandle, derived);
    }
  }

  /**
   * Makes an object from `template` alone (`C_CreateObject`): e.g. an RSA
   * public key from its modulus and exponent. Returns its handle.
   *
   * @example
   * ```ts
   * const publicKey = hsm.createObject([
   *   [CKA.CLASS, CKO.PUBLIC_KEY], [CKA.KEY_TYPE, CKK.RSA], [CKA.TOKEN, false],
   *   [CKA.MODULUS, modulus], [CKA.PUBLIC_EXPONENT, publicExponent], [CKA.WRAP, true],
   * ]);
   * ```
   */
  createObject(template: readonly Attribute[]): number {
    return this.#p11.createObject(this.session, new Template(template));
  }

  /**
   * The modulus and public exponent of an RSA key object (big-endian, as
   * PKCS#11 stores them).
   *
   * @throws {Error} when the object has no readable modulus or exponent.
   * @example
   * ```ts
   * const { modulus, publicExponent } = hsm.rsaPublicKey(publicKey);
   * ```
   */
  rsaPublicKey(
    object: number,
  ): { modulus: Uint8Array; publicExponent: Uint8Array } {
    const [modulus, publicExponent] = this.read(object, [
      [CKA.MODULUS, 1024],
      [CKA.PUBLIC_EXPONENT, 64],
    ]);
    if (modulus === undefined || publicExponent === undefined) {
      throw new Error(
        `HSM object ${object} has no readable RSA modulus and exponent`,
      );
    }
    return { modulus, publicExponent };
  }

  /**
   * The curve (`CKA_EC_PARAMS`, DER) and public point (`CKA_EC_POINT`, a DER
   * OCTET STRING around the point as SoftHSM2 and PKCS#11 v2.40 store it)
   * of an EC or Edwards key object.
   *
   * @throws {Error} when the object has no readable curve or point.
   * @example
   * ```ts
   * const { ecParams, ecPoint } = hsm.ecPublicKey(publicKey);
   * ```
   */
  ecPublicKey(object: number): { ecParams: Uint8Array; ecPoint: Uint8Array } {
    const [ecParams, ecPoint] = this.read(object, [
      [CKA.EC_PARAMS, 64],
      [CKA.EC_POINT, 256],
    ]);
    if (ecParams === undefined || ecPoint === undefined) {
      throw new Error(
        `HSM object ${object} has no readable EC parameters and point`,
      );
    }
    return { ecParams, ecPoint };
  }

  /**
   * Runs `body` logged in as the security officer, then logs the user back
   * in with `userPin`; zeroes both PINs. For the few steps only the SO may
   * take (setting `CKA_TRUSTED`).
   *
   * PKCS#11 keeps one login state per token and application, so this ends
   * the user login of every session this process has on the token: their
   * private session objects are destroyed and their handles to private
   * token objects become invalid (find them again afterwards). Use it only
   * where nothing else uses the token in this process (an admin command).
   * Objects `body` makes as public session objects outlive the SO login.
   *
   * @throws {Error} the module's error; when the user cannot be logged back
   * in, an error that says the session is left logged out.
   * @example
   * ```ts
   * const trusted = hsm.asSecurityOfficer(soPin, userPin, () =>
   *   hsm.createObject([...publicKeyTemplate, [CKA.TRUSTED, true]])
   * );
   * ```
   */
  asSecurityOfficer<T>(
    soPin: Uint8Array,
    userPin: Uint8Array,
    body: () => T,
  ): T {
    const session = this.session;
    try {
      this.#p11.logout(session);
      let result: T;
      try {
        this.#p11.login(session, CKU.SO, soPin);
        try {
          result = body();
        } finally {
          this.#p11.logout(session);
        }
      } finally {
        this.#loginAgain(userPin);
      }
      return result;
    } finally {
      soPin.fill(0);
      userPin.fill(0);
    }
  }

  #loginAgain(userPin: Uint8Array): void {
    try {
      this.#p11.login(this.#sessionHandle, CKU.USER, userPin);
    } catch (error) {
      throw new Error(
        `the user could not be logged back in to token "${this.token.label}" after the SO step (${
          (error as Error).message
        }): this session is left logged out; close and reopen it`,
      );
    }
  }

  /** Handles of the objects matching `template`. */
  find(template: readonly Attribute[]): number[] {
    const started = this.#started();
    const handles = this.#p11.findObjects(
      this.session,
      new Template(template),
    );
    this.#observe("find", started);
    return handles;
  }

  /** Reads attributes; an unreadable one comes back `undefined`. */
  read(
    object: number,
    requests: readonly (readonly [type: number, size: number])[],
  ): (Uint8Array | undefined)[] {
    const template = new ReadTemplate(requests);
    this.#p11.getAttributeValue(this.session, object, template);
    return requests.map((_, i) => template.value(i));
  }

  /** Destroys an object. */
  destroy(object: number): void {
    this.#p11.destroyObject(this.session, object);
  }

  #mechanism(type: number | MechanismStruct): MechanismStruct {
    if (typeof type !== "number") return type;
    let mechanism = this.#plain.get(type);
    if (mechanism === undefined) {
      mechanism = new Mechanism(type);
      this.#plain.set(type, mechanism);
    }
    return mechanism;
  }

  /** The first `length` bytes of the output buffer, copied; the buffer is zeroed. */
  /**
   * One `*Init` and single-part call into the shared output buffer, timed
   * as `call`; what it wrote, copied out (see {@linkcode #copyOut}).
   */
  #singlePart(
    call: HsmCall,
    init: () => void,
    run: () => number,
  ): Uint8Array<ArrayBuffer> {
    const started = this.#started();
    init();
    const out = this.#copyOut(run());
    this.#observe(call, started);
    return out;
  }

  #copyOut(length: number): Uint8Array<ArrayBuffer> {
    const out = this.#output.slice(0, length);
    this.#output.fill(0, 0, length);
    return out;
  }

  /** When a call starts, if anyone observes calls. */
  #started(): number {
    return this.observer === undefined ? 0 : performance.now();
  }

  #observe(call: HsmCall, started: number): void {
    this.observer?.(call, (performance.now() - started) / 1000);
  }

  /** Closes the session (the login ends with the last one) and releases the module. Idempotent. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    try {
      this.#p11.closeSession(this.#sessionHandle);
    } finally {
      releaseModule(this.modulePath);
    }
  }
}

/**
 * What {@linkcode Hsm.deriveSecret} derives into: a session generic secret
 * that can do nothing; not sensitive and extractable only so that its value
 * can be read the one time before it is destroyed.
 */
const READ_ONCE_SECRET: readonly Attribute[] = [
  [CKA.CLASS, CKO.SECRET_KEY],
  [CKA.KEY_TYPE, CKK.GENERIC_SECRET],
  [CKA.TOKEN, false],
  [CKA.PRIVATE, true],
  [CKA.SENSITIVE, false],
  [CKA.EXTRACTABLE, true],
  [CKA.COPYABLE, false],
  [CKA.ENCRYPT, false],
  [CKA.DECRYPT, false],
  [CKA.SIGN, false],
  [CKA.VERIFY, false],
  [CKA.WRAP, false],
  [CKA.UNWRAP, false],
  [CKA.DERIVE, false],
  [CKA.MODIFIABLE, false],
];

function findSlot(p11: Pkcs11, label: string): number | undefined {
  return p11.getSlotList(true).find((slot) =>
    p11.getTokenInfo(slot).label === label
  );
}

/** Initializes a free token with the label and sets its user PIN. */
function initializeToken(p11: Pkcs11, options: HsmOptions): number {
  const soPin = options.initializeWithSoPin;
  if (soPin === undefined) {
    throw new Error(
      `no PKCS#11 token labelled "${options.tokenLabel}" in ${options.modulePath}`,
    );
  }
  const free = p11.getSlotList(true).find((slot) =>
    (p11.getTokenInfo(slot).flags & CKF.TOKEN_INITIALIZED) === 0
  );
  if (free === undefined) {
    throw new Error(
      `no free slot to create token "${options.tokenLabel}" in ${options.modulePath}`,
    );
  }
  p11.initToken(free, soPin, options.tokenLabel);
  // SoftHSM2 gives the new token a new slot id: find it again by label.
  const slot = findSlot(p11, options.tokenLabel);
  if (slot === undefined) {
    throw new Error(`token "${options.tokenLabel}" vanished after C_InitToken`);
  }
  const session = p11.openSession(slot, CKF.RW_SESSION);
  try {
    p11.login(session, CKU.SO, soPin);
    p11.initPin(session, options.pin);
    p11.logout(session);
  } finally {
    p11.closeSession(session);
  }
  return slot;
}

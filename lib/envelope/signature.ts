/**
 * The signed suite's footer: ECDSA P-384 with SHA-384 over the header and
 * body, DER-encoded (`ECDSA-Sig-Value`), after its UInt16 length. The
 * public key travels in the encryption context under
 * `aws-crypto-public-key`: the SEC 1 compressed point, base64.
 *
 * Hashing must go on frame by frame (a stream is not held whole), which
 * WebCrypto's one-shot `sign` cannot do; `node:crypto`'s `Sign` and
 * `Verify` can, so they are used here. The signing key is a fresh key pair
 * per message, dropped with the message.
 * @module
 */
import {
  createPublicKey,
  createSign,
  createVerify,
  ECDH,
  generateKeyPair,
  type KeyObject,
  type Sign,
  type Verify,
} from "node:crypto";
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { invalidMessage, putUint16 } from "./wire.ts";

const CURVE = "secp384r1";
const HASH = "sha384";

/** Signs a message as it is written. */
export class MessageSigner {
  /** The context value of the public key. */
  readonly publicKey: string;
  readonly #privateKey: KeyObject;
  readonly #sign: Sign = createSign(HASH);

  private constructor(publicKey: string, privateKey: KeyObject) {
    this.publicKey = publicKey;
    this.#privateKey = privateKey;
  }

  /** A signer with a new key pair. */
  static async create(): Promise<MessageSigner> {
    const { publicKey, privateKey } = await new Promise<
      { publicKey: KeyObject; privateKey: KeyObject }
    >((resolve, reject) =>
      generateKeyPair(
        "ec",
        { namedCurve: CURVE },
        (error, publicKey, privateKey) =>
          error ? reject(error) : resolve({ publicKey, privateKey }),
      )
    );
    return new MessageSigner(compressedPoint(publicKey), privateKey);
  }

  /** Hashes message bytes, in order. */
  update(bytes: Uint8Array): void {
    this.#sign.update(bytes);
  }

  /** The footer: signature length ‖ DER signature. */
  footer(): Uint8Array {
    const signature = this.#sign.sign({
      key: this.#privateKey,
      dsaEncoding: "der",
    });
    const out = new Uint8Array(2 + signature.length);
    putUint16(out, 0, signature.length);
    out.set(signature, 2);
    return out;
  }
}

function compressedPoint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: "jwk" });
  const x = decodeBase64(jwk.x!, "url");
  const y = decodeBase64(jwk.y!, "url");
  const point = new Uint8Array(1 + x.length);
  point[0] = 0x02 | (y[y.length - 1] & 1);
  point.set(x, 1);
  return encodeBase64(point);
}

/** Checks a message's signature as it is read. */
export class MessageVerifier {
  readonly #publicKey: KeyObject;
  readonly #verify: Verify = createVerify(HASH);

  /**
   * @throws {InvalidCiphertextException} when `publicKey` (the context
   * value) is not a compressed P-384 point.
   */
  constructor(publicKey: string) {
    let uncompressed: Uint8Array;
    try {
      const point = decodeBase64(publicKey, "standard");
      if (point.length !== 49 || (point[0] !== 2 && point[0] !== 3)) {
        throw new RangeError("not a compressed P-384 point");
      }
      uncompressed = ECDH.convertKey(
        point,
        CURVE,
        undefined,
        undefined,
        "uncompressed",
      ) as Uint8Array;
    } catch {
      throw invalidMessage(
        "the public key in the context is not a P-384 point",
      );
    }
    this.#publicKey = createPublicKey({
      key: {
        kty: "EC",
        crv: "P-384",
        x: encodeBase64(uncompressed.subarray(1, 49), "url"),
        y: encodeBase64(uncompressed.subarray(49), "url"),
      },
      format: "jwk",
    });
  }

  /** Hashes message bytes, in order. */
  update(bytes: Uint8Array): void {
    this.#verify.update(bytes);
  }

  /**
   * Checks the signature (the footer's, its length taken off).
   *
   * @throws {InvalidCiphertextException} when it is not valid.
   */
  check(signature: Uint8Array): void {
    let valid = false;
    try {
      valid = this.#verify.verify(
        { key: this.#publicKey, dsaEncoding: "der" },
        signature,
      );
    } catch {
      // A malformed DER signature: invalid as well.
    }
    if (!valid) throw invalidMessage("the signature does not match");
  }
}

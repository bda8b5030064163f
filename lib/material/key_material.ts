/**
 * Where CMK material lives: the small interface the KMS needs of it.
 * @module
 */
import type {
  KeyRecord,
  KeyVersionRecord,
  WrappedMaterial,
} from "../metadata_store.ts";

/** What a {@linkcode KeyMaterial.sweep} did. */
export interface SweepResult {
  /** Leftover objects and files removed. */
  removed: number;
  /** False when it stopped because a creation may be under way. */
  complete: boolean;
}

/** New material, as {@linkcode KeyMaterial.generate} made it. */
export interface NewMaterial {
  /** Its handle, when it is ready for use already. */
  handle?: number;
  /** What the store keeps of it, when the HSM keeps nothing. */
  wrapped?: WrappedMaterial;
  /** An asymmetric key's public key (DER SubjectPublicKeyInfo). */
  publicKey?: Uint8Array;
}

/**
 * What kind of key material is: an asymmetric or HMAC key's spec and
 * usage, or neither for the symmetric AES-256 default.
 */
export type MaterialKind = Pick<KeyRecord, "keySpec" | "keyUsage">;

/**
 * CMK versions' AES-256 material, named by 16 random bytes (`materialId`).
 *
 * The material never leaves the HSM in the clear: the KMS only ever holds a
 * handle to use with {@linkcode Hsm.encrypt} and {@linkcode Hsm.decrypt}.
 * Token objects implement it ({@linkcode TokenKeyMaterial}), and so do keys
 * wrapped under an HSM-resident domain key ({@linkcode WrappedKeyMaterial}).
 */
export interface KeyMaterial {
  /**
   * Generates new material named `materialId`, of `kind` (default: AES).
   *
   * @throws {UnsupportedOperationException} when this material or HSM
   * cannot keep keys of that kind.
   */
  generate(materialId: Uint8Array, kind?: MaterialKind): Promise<NewMaterial>;
  /**
   * The handle of a version's material (a private or secret key, for an
   * asymmetric or HMAC `kind`), or `undefined` if there is none.
   */
  locate(version: KeyVersionRecord, kind?: MaterialKind): number | undefined;
  /**
   * Destroys every HSM object named `materialId` (for wrapped material:
   * the key unwrapped for use, if any), and checks that none is left.
   *
   * @throws {Error} when the HSM fails or an object is left.
   */
  destroy(materialId: Uint8Array): void;
  /**
   * Lets go of what this process holds for `materialId` (for wrapped
   * material: the key unwrapped for use), leaving the material itself to
   * whoever destroys it: for a key another node deleted.
   */
  release(materialId: Uint8Array): void;
  /**
   * Removes what a crash inside generation left that no material id names
   * (half-written objects), where this material owns its HSM outright.
   * `creationUnderWay` is asked after the leftovers are found: when it says
   * yes, they may be another process's work in progress, and are kept.
   * Elsewhere (a shared HSM) it removes nothing.
   *
   * @param before leftover files last written before it (epoch ms) are dead.
   */
  sweep(
    creationUnderWay: () => Promise<boolean>,
    before: number,
  ): Promise<SweepResult>;
}

/** Removes generation leftovers: {@linkcode KeyMaterial.sweep}. */
export type Sweeper = KeyMaterial["sweep"];

/** The sweeper of an HSM okms does not own outright: it removes nothing. */
export const sweepNothing: Sweeper = () =>
  Promise.resolve({ removed: 0, complete: true });

/**
 * Where CMK material lives: the small interface the KMS needs of it.
 * @module
 */

/** What a {@linkcode KeyMaterial.sweep} did. */
export interface SweepResult {
  /** Leftover objects and files removed. */
  removed: number;
  /** False when it stopped because a creation may be under way. */
  complete: boolean;
}

/**
 * CMK versions' AES-256 material, named by 16 random bytes (`materialId`).
 *
 * The material never leaves the HSM: the KMS only ever holds a handle to use
 * with {@linkcode Hsm.encrypt} and {@linkcode Hsm.decrypt}. Token objects
 * implement it today ({@linkcode TokenKeyMaterial}); keys wrapped under an
 * HSM-resident domain key can implement it for clusters.
 */
export interface KeyMaterial {
  /** Generates new material named `materialId`; returns its handle. */
  generate(materialId: Uint8Array): number;
  /** The handle of material `materialId`, or `undefined` if there is none. */
  locate(materialId: Uint8Array): number | undefined;
  /**
   * Destroys every object named `materialId`, and checks that none is left.
   *
   * @throws {Error} when the HSM fails or an object is left.
   */
  destroy(materialId: Uint8Array): void;
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

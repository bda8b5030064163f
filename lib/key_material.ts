/**
 * Where CMK material lives: the small interface the KMS needs of it.
 * @module
 */

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
  /** Destroys every object named `materialId`; returns how many there were. */
  destroy(materialId: Uint8Array): number;
}

/**
 * okms's PKCS#11 binding: the only place with C names, pointers and structs.
 * @module
 */
export * from "./constants.ts";
export * from "./errors.ts";
export * from "./module_path.ts";
export * from "./pkcs11.ts";
export * from "./structs.ts";
export * from "./aes_gcm.ts";
export * from "./rsa_oaep.ts";
export * from "./hashes.ts";
export * from "./rsa_pss.ts";
export * from "./ecdh.ts";

/**
 * The okms HTTP server: AWS KMS's JSON 1.1 protocol over Hono, SigV4
 * accounts, an audit log. `server/main.ts` runs it (`deno task serve`).
 *
 * @example
 * ```ts
 * import { startServer } from "./server/mod.ts";
 * await using server = await startServer({ host: "127.0.0.1", port: 8080, okms: {}, clockSkewSeconds: 300 });
 * console.log(server.url, server.firstAccessKey);
 * ```
 * @module
 */
export { type AppOptions, createApp } from "./app.ts";
export { AccessKeyStore } from "./access_key_store.ts";
export type {
  AccessKeyInfo,
  AccessKeyRow,
  AccessKeys,
} from "../lib/store/access_keys.ts";
export { AuditLog, type AuditRecord } from "./audit.ts";
export { ConfigError, type ServerConfig, serverConfig } from "./config.ts";
export {
  accessKeyDbPath,
  Credentials,
  type CredentialsOptions,
  type NewAccessKey,
  openAccessKeys,
  REVALIDATE_MS,
} from "./credentials.ts";
export * from "./errors.ts";
export { type Operation, operation, OPERATIONS } from "./operations.ts";
export { type RunningServer, startServer } from "./serve.ts";
export type { SecretSource, SigningSecret } from "./sigv4.ts";

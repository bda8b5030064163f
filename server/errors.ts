/**
 * The server's own errors (protocol and authentication) and the HTTP status
 * of every error name the server sends as `__type`.
 * @module
 */
import { KmsError } from "../mod.ts";

/** The request body is not the JSON the operation takes. */
export class SerializationException extends KmsError {
  override name = "SerializationException";
}

/** `X-Amz-Target` names no operation okms offers. */
export class UnknownOperationException extends KmsError {
  override name = "UnknownOperationException";
}

/** The request carries no `Authorization` header. */
export class MissingAuthenticationTokenException extends KmsError {
  override name = "MissingAuthenticationTokenException";
}

/** The `Authorization` header or a header it needs is malformed or missing. */
export class IncompleteSignatureException extends KmsError {
  override name = "IncompleteSignatureException";
}

/** The signature, its scope or its date does not hold. */
export class InvalidSignatureException extends KmsError {
  override name = "InvalidSignatureException";
}

/** The access key id is unknown or revoked. */
export class UnrecognizedClientException extends KmsError {
  override name = "UnrecognizedClientException";
}

/** Too many requests: in flight on this server, or for the account's quota. */
export class ThrottlingException extends KmsError {
  override name = "ThrottlingException";
  /** What was exceeded: the server's in-flight bound, or the account's rate. */
  readonly reason: "in_flight" | "account_rate";

  constructor(message: string, reason: ThrottlingException["reason"]) {
    super(message);
    this.reason = reason;
  }
}

/** No route: okms answers `POST /` only. */
export class UnknownRouteException extends KmsError {
  override name = "UnknownOperationException";
  readonly status = 404;
}

const STATUS: Readonly<Record<string, number>> = {
  NotFoundException: 404,
  DisabledException: 409,
  KMSInvalidStateException: 409,
  AlreadyExistsException: 409,
  MissingAuthenticationTokenException: 403,
  KeyUnavailableException: 500,
  KMSInternalException: 500,
  DependencyTimeoutException: 503,
};

/**
 * The HTTP status of an error: AWS's for the names it uses, 400 for every
 * other client error (validation, ciphertext, signature).
 *
 * @example
 * ```ts
 * errorStatus(new NotFoundException("no such key")); // 404
 * ```
 */
export function errorStatus(error: KmsError): number {
  if (error instanceof UnknownRouteException) return error.status;
  return STATUS[error.name] ?? 400;
}

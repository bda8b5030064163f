/**
 * The errors okms throws, named after the AWS KMS exceptions they stand for.
 *
 * `error.name` is the AWS exception name (the server sends it as `__type`);
 * messages say what failed in plain words and never hold key material,
 * plaintext or secrets.
 * @module
 */

/**
 * The base of every okms error.
 *
 * @example
 * ```ts
 * try {
 *   await okms.decrypt({ ciphertextBlob });
 * } catch (e) {
 *   if (e instanceof KmsError) console.error(e.name, e.message);
 * }
 * ```
 */
export class KmsError extends Error {
  override name = "KMSInternalException";
  /** The key the operation was refused for, when there is one (for audit). */
  readonly keyArn?: string;

  constructor(message?: string, options?: { keyArn?: string }) {
    super(message);
    if (options?.keyArn !== undefined) this.keyArn = options.keyArn;
  }
}

/** An input is missing, of the wrong type, or out of range. */
export class ValidationException extends KmsError {
  override name = "ValidationException";
}

/** An alias name is malformed or reserved (`alias/aws/…`). */
export class InvalidAliasNameException extends KmsError {
  override name = "InvalidAliasNameException";
}

/** The key (or alias, or account) does not exist, or is not the caller's. */
export class NotFoundException extends KmsError {
  override name = "NotFoundException";
}

/** The key is disabled. */
export class DisabledException extends KmsError {
  override name = "DisabledException";
}

/** The key's state does not allow the operation. */
export class KMSInvalidStateException extends KmsError {
  override name = "KMSInvalidStateException";
}

/** The ciphertext is damaged, foreign, or its encryption context differs. */
export class InvalidCiphertextException extends KmsError {
  override name = "InvalidCiphertextException";
}

/** Verify: the signature is not valid for the message under the key. */
export class KMSInvalidSignatureException extends KmsError {
  override name = "KMSInvalidSignatureException";
}

/** VerifyMac: the MAC is not the message's HMAC under the key. */
export class KMSInvalidMacException extends KmsError {
  override name = "KMSInvalidMacException";
}

/** The key's `KeyUsage` (or `KeySpec`) does not allow the operation. */
export class InvalidKeyUsageException extends KmsError {
  override name = "InvalidKeyUsageException";
}

/** The ciphertext was not made under the key the caller named. */
export class IncorrectKeyException extends KmsError {
  override name = "IncorrectKeyException";
}

/** A quota (keys per account, aliases, tags) would be exceeded. */
export class LimitExceededException extends KmsError {
  override name = "LimitExceededException";
}

/** The resource (an alias, an account) exists already. */
export class AlreadyExistsException extends KmsError {
  override name = "AlreadyExistsException";
}

/** A tag is not valid (empty or over-long key, over-long value, `aws:`). */
export class TagException extends KmsError {
  override name = "TagException";
}

/** The pagination marker is not one okms handed out. */
export class InvalidMarkerException extends KmsError {
  override name = "InvalidMarkerException";
}

/** The key's material is not available in the HSM. */
export class KeyUnavailableException extends KmsError {
  override name = "KeyUnavailableException";
}

/** The request is valid but okms does not support it. */
export class UnsupportedOperationException extends KmsError {
  override name = "UnsupportedOperationException";
}

/** An internal fault (the HSM or the store failed); details go to the log. */
export class KMSInternalException extends KmsError {
  override name = "KMSInternalException";
}

/**
 * Something okms depends on (a shared database) did not answer in time; the
 * request may be retried.
 */
export class DependencyTimeoutException extends KmsError {
  override name = "DependencyTimeoutException";
}

import type { ErrorCode } from "@pedigree/protocol";

/** An error the server answered (or the network caused), with the server's code, message and field. */
export class PedigreeError extends Error {
  /** How long the server asked to wait before trying again (`Retry-After` of a 429 or 503). */
  retryAfterMs: number | undefined;

  constructor(
    readonly code: ErrorCode | "NETWORK",
    message: string,
    readonly status: number | undefined,
    readonly field?: string,
  ) {
    super(message);
    this.name = "PedigreeError";
  }
}

export class NotFoundError extends PedigreeError {
  override name = "NotFoundError";
}
export class ConflictError extends PedigreeError {
  override name = "ConflictError";
}
export class AuthError extends PedigreeError {
  override name = "AuthError";
}
export class ValidationError extends PedigreeError {
  override name = "ValidationError";
}
/** The version was deleted or expired: a tombstone, whose files are gone. */
export class GoneError extends PedigreeError {
  override name = "GoneError";
}

export function errorFor(code: ErrorCode | "NETWORK", message: string, status: number | undefined, field?: string) {
  switch (code) {
    case "NOT_FOUND":
      return new NotFoundError(code, message, status, field);
    case "CONFLICT":
      return new ConflictError(code, message, status, field);
    case "GONE":
      return new GoneError(code, message, status, field);
    case "UNAUTHORIZED":
    case "FORBIDDEN":
      return new AuthError(code, message, status, field);
    case "BAD_REQUEST":
    case "PAYLOAD_TOO_LARGE":
      return new ValidationError(code, message, status, field);
    default:
      return new PedigreeError(code, message, status, field);
  }
}

import { type ErrorCode, statusOfErrorCode } from "@pedigree/protocol";
import type { z } from "zod";

/** The one error type: thrown from anywhere, turned into `{ error: { code, message, field } }` by the app. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get status(): number {
    return statusOfErrorCode[this.code];
  }
}

export const badRequest = (field: string, message: string) => new ApiError("BAD_REQUEST", message, field);
export const notFound = (what: string, field?: string) => new ApiError("NOT_FOUND", `${what} was not found`, field);
export const conflict = (message: string, field?: string) => new ApiError("CONFLICT", message, field);
export const forbidden = (message: string, field?: string) => new ApiError("FORBIDDEN", message, field);

/** Parses input with a protocol schema; the first problem becomes a 400 naming its field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, fieldPrefix = ""): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join(".") ?? "";
  const field = [fieldPrefix, path].filter(Boolean).join(".") || "body";
  throw badRequest(field, `${field}: ${issue?.message ?? "invalid"}`);
}

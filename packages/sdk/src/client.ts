import { ErrorBody } from "@pedigree/protocol";
import ky, { HTTPError, type KyInstance, type Options, TimeoutError } from "ky";
import type { z } from "zod";
import { errorFor, PedigreeError } from "./errors";
import type { Settings } from "./settings";

export interface RequestOptions {
  json?: unknown;
  searchParams?: Record<string, string | number | boolean | undefined>;
}

/**
 * The one HTTP client: base URL, API key, timeouts, retries with backoff on network errors, 429 and 5xx.
 * POST and PATCH are retried too because every write of the API is idempotent by construction (client run
 * ids, content digests, unique edges); each call still carries one Idempotency-Key reused by its retries.
 */
export class HttpClient {
  readonly ky: KyInstance;

  constructor(readonly settings: Settings) {
    this.ky = ky.create({
      prefixUrl: `${settings.baseUrl}/api/v1`,
      timeout: settings.timeoutMs,
      headers: settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {},
      retry: {
        limit: settings.retries,
        methods: ["get", "put", "head", "delete", "options", "post", "patch"],
        statusCodes: [408, 429, 500, 502, 503, 504],
        backoffLimit: 5_000,
      },
    });
  }

  async request<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    options: RequestOptions = {},
  ): Promise<z.output<S>> {
    const response = await this.send(method, path, options);
    return schema.parse(await response.json());
  }

  async requestVoid(method: string, path: string, options: RequestOptions = {}): Promise<void> {
    await this.send(method, path, options);
  }

  /** The raw response of a successful request; errors become typed PedigreeErrors. */
  async send(method: string, path: string, options: RequestOptions & Omit<Options, "json" | "searchParams"> = {}) {
    const { searchParams, ...rest } = options;
    const defined = searchParams
      ? Object.fromEntries(
          Object.entries(searchParams).filter(
            (entry): entry is [string, string | number | boolean] => entry[1] !== undefined,
          ),
        )
      : undefined;
    try {
      return await this.ky(path.replace(/^\//, ""), {
        method,
        ...rest,
        ...(defined ? { searchParams: defined } : {}),
        headers: { ...(rest.headers as Record<string, string>), "idempotency-key": crypto.randomUUID() },
      });
    } catch (error) {
      throw await toPedigreeError(error, method, path);
    }
  }
}

export async function toPedigreeError(error: unknown, method: string, path: string): Promise<PedigreeError> {
  if (error instanceof PedigreeError) return error;
  if (error instanceof HTTPError) {
    const parsed = ErrorBody.safeParse(await error.response.json().catch(() => null));
    if (parsed.success) {
      const { code, message, field } = parsed.data.error;
      return errorFor(code, message, error.response.status, field);
    }
    return errorFor("INTERNAL", `${method} ${path} answered ${error.response.status}`, error.response.status);
  }
  if (error instanceof TimeoutError) return errorFor("NETWORK", `${method} ${path} timed out`, undefined);
  const reason =
    error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
  return errorFor("NETWORK", `${method} ${path} failed: ${reason}`, undefined);
}

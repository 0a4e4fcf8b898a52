import {
  type AnyRoute,
  API_PREFIX,
  ErrorBody,
  isBinary,
  type RouteCallArgs,
  type RouteInput,
  type RouteName,
  type RouteResult,
  type Routes,
  routes,
  routeUrl,
  type SuccessStatus,
} from "@pedigree/protocol";
import ky, { HTTPError, type KyInstance, type Options, TimeoutError } from "ky";
import type { z } from "zod";
import { errorFor, PedigreeError } from "./errors";
import type { Settings } from "./settings";

/**
 * The one HTTP client: base URL, API key, timeouts, retries with backoff on network errors, 429 and 5xx.
 * Routes are called by name from the protocol's route table: the table builds the URL from typed path
 * parameters and query, and its schema for the status answered decodes the body.
 * POST and PATCH are retried too because every write of the API is idempotent by construction (client run
 * ids, content digests, unique edges), so a retry that reaches the server twice changes nothing more; no
 * Idempotency-Key is sent, as the server has nothing to do with one.
 */
export class HttpClient {
  readonly ky: KyInstance;

  constructor(readonly settings: Settings) {
    this.ky = ky.create({
      prefixUrl: `${settings.baseUrl}${API_PREFIX}`,
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

  /** Calls route `name` and answers its body, decoded by the route's schema for the status answered. */
  async call<N extends RouteName>(name: N, ...[input]: RouteCallArgs<N>): Promise<RouteResult<Routes[N]>> {
    const route: AnyRoute = routes[name];
    const response = await this.send(route, (input ?? {}) as GivenInput);
    const schema = route.responses[response.status as SuccessStatus];
    if (schema === null) return undefined as RouteResult<Routes[N]>;
    if (schema === undefined || isBinary(schema)) {
      throw new PedigreeError(
        "INTERNAL",
        `${name} answered ${response.status}, which its route does not declare`,
        response.status,
      );
    }
    return (schema as z.ZodType).parse(await response.json()) as RouteResult<Routes[N]>;
  }

  /** The raw response of a successful call of route `name`, for answers streamed as bytes. */
  async open<N extends RouteName>(name: N, input: RouteInput<Routes[N]>, options: CallOptions = {}): Promise<Response> {
    return this.send(routes[name], input as GivenInput, options);
  }

  /** Errors become typed PedigreeErrors. */
  private async send(route: AnyRoute, input: GivenInput, options: CallOptions = {}): Promise<Response> {
    const url = routeUrl(route, input);
    try {
      return await this.ky(url.slice(1), {
        ...options,
        method: route.method,
        ...(input.body !== undefined ? { json: input.body } : {}),
      });
    } catch (error) {
      throw await toPedigreeError(error, route.method, url);
    }
  }
}

type GivenInput = { params?: Record<string, string>; query?: object; body?: unknown };
type CallOptions = Omit<Options, "json" | "searchParams" | "method" | "body">;

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

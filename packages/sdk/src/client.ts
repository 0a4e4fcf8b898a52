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
import { type Circuit, circuitFor, reasonOf } from "./circuit";
import { AuthError, errorFor, PedigreeError } from "./errors";
import type { Settings } from "./settings";

/**
 * How long the circuit's health probe may take before the server counts as unreachable: short beside
 * `maxBlockMs`, since a script that waited that long on a server that accepts connections but does not answer
 * waits for a probe (and `finish` for one more) before it goes on.
 */
const probeTimeoutMs = (settings: Settings) =>
  Math.min(settings.timeoutMs, 2_000, Math.max(500, Math.round(settings.maxBlockMs / 3)));

/**
 * The one HTTP client: base URL, API key, timeouts, the server's circuit breaker and the retry policy.
 * Routes are called by name from the protocol's route table: the table builds the URL from typed path
 * parameters and query, and its schema for the status answered decodes the body.
 * POST and PATCH are retried too because every write of the API is idempotent by construction (client run
 * ids, content digests, unique edges), so a retry that reaches the server twice changes nothing more; no
 * Idempotency-Key is sent, as the server has nothing to do with one.
 *
 * Retry policy (`retryDelayMs`): 5xx, 408 and 429 are retried `settings.retries` times with backoff, a
 * `Retry-After` (429, 503) is honoured; a network failure is retried as often, with a short backoff, then the
 * circuit opens and every request fails at once until the server answers again; 401 and 403 are final.
 */
export class HttpClient {
  readonly ky: KyInstance;
  readonly circuit: Circuit;
  /** The server refused the key (401): every later call fails with this at once, the key will not get better. */
  private keyRefused: AuthError | undefined;

  constructor(readonly settings: Settings) {
    this.circuit = circuitFor(settings.baseUrl, probeTimeoutMs(settings));
    this.ky = ky.create({
      prefixUrl: `${settings.baseUrl}${API_PREFIX}`,
      timeout: settings.timeoutMs,
      headers: settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {},
      retry: 0,
      fetch: this.circuit.fetch,
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

  /** The raw response of a successful call, retried by the retry policy; errors become typed PedigreeErrors. */
  private async send(route: AnyRoute, input: GivenInput, options: CallOptions = {}): Promise<Response> {
    const url = routeUrl(route, input);
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.keyRefused) throw this.keyRefused;
        return await this.ky(url.slice(1), {
          ...options,
          method: route.method,
          ...(input.body !== undefined ? { json: input.body } : {}),
        });
      } catch (error) {
        const failure = await this.failureOf(error, route.method, url);
        const delay = this.retryDelayMs(failure, attempt);
        if (delay === undefined) throw failure;
        await sleep(delay);
      }
    }
  }

  /** A failed attempt as a PedigreeError; an AuthError names the server and where the key came from. */
  async failureOf(error: unknown, method: string, path: string): Promise<PedigreeError> {
    if (this.keyRefused && error === this.keyRefused) return this.keyRefused;
    if (error instanceof TimeoutError) this.circuit.failed(`${method} /${path.replace(/^\//, "")} timed out`);
    const failure = await toPedigreeError(error, method, path);
    if (!(failure instanceof AuthError)) return failure;
    const { baseUrl, apiKeySource } = this.settings;
    const what = failure.status === 401 ? "the API key" : `${method} /${path.replace(/^\//, "")} with the API key`;
    const explained = new AuthError(
      failure.code,
      `${baseUrl} refused ${what} from ${apiKeySource} (${failure.status}): ${failure.message}`,
      failure.status,
      failure.field,
    );
    if (failure.status === 401) this.keyRefused = explained;
    return explained;
  }

  /**
   * How long to wait before attempt `attempt + 1` of a failed request, or undefined: give up. Giving up on a
   * network failure opens the circuit.
   */
  retryDelayMs(failure: PedigreeError, attempt: number): number | undefined {
    if (failure instanceof AuthError) return undefined;
    if (failure.code === "NETWORK") {
      if (!this.circuit.isOpen && attempt < this.settings.retries) return 100 * 2 ** attempt;
      this.circuit.failed(failure.message);
      return undefined;
    }
    const { status } = failure;
    if (status === undefined || attempt >= this.settings.retries) return undefined;
    if (failure.retryAfterMs !== undefined) {
      return failure.retryAfterMs <= this.settings.timeoutMs ? failure.retryAfterMs : undefined;
    }
    if (status >= 500 || status === 408 || status === 429) return Math.min(5_000, 300 * 2 ** attempt);
    return undefined;
  }
}

type GivenInput = { params?: Record<string, string>; query?: object; body?: unknown };
type CallOptions = Omit<Options, "json" | "searchParams" | "method" | "body">;

export async function toPedigreeError(error: unknown, method: string, path: string): Promise<PedigreeError> {
  if (error instanceof PedigreeError) return error;
  const route = `${method} /${path.replace(/^\//, "")}`;
  if (error instanceof HTTPError) {
    const { status } = error.response;
    const parsed = ErrorBody.safeParse(await error.response.json().catch(() => null));
    const said = parsed.success ? parsed.data.error : undefined;
    const message =
      status >= 500
        ? `the server answered ${status} to ${route}${said ? ` (${said.code}): ${said.message}` : ""}`
        : (said?.message ?? `the server answered ${status} to ${route}`);
    const failure = errorFor(said?.code ?? "INTERNAL", message, status, said?.field);
    const retryAfterMs = retryAfterOf(error.response);
    if (retryAfterMs !== undefined && (status === 429 || status === 503)) failure.retryAfterMs = retryAfterMs;
    return failure;
  }
  if (error instanceof TimeoutError)
    return errorFor("NETWORK", `${route} timed out: the server did not answer`, undefined);
  return errorFor("NETWORK", `${route} failed: ${reasonOf(error)}`, undefined);
}

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date. */
function retryAfterOf(response: Response): number | undefined {
  const header = response.headers.get("retry-after");
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

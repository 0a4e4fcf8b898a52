import {
  type AnyRoute,
  API_PREFIX,
  type Empty,
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

/** The API key the user pasted, kept in this browser only. */
const keyStorage = "pedigree.apiKey";
export const savedApiKey = () => localStorage.getItem(keyStorage);
export const saveApiKey = (key: string) => localStorage.setItem(keyStorage, key);
export const forgetApiKey = () => localStorage.removeItem(keyStorage);

/** An error answer of the API, or a network failure (status 0). */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Fired when the server refuses the saved key (revoked or wrong): the app goes back to sign-in. */
export const keyRefusedEvent = "pedigree:key-refused";

/** A call's input, and the signal that aborts it (a page that went away). */
type ApiInput<N extends RouteName> = RouteInput<Routes[N]> & { signal?: AbortSignal | undefined };
type ApiArgs<N extends RouteName> = Empty extends RouteInput<Routes[N]> ? [input?: ApiInput<N>] : [input: ApiInput<N>];

/** A call of route `name` as a string: the key under which `useResource` keeps its answer. */
export function callKey<N extends RouteName>(name: N, ...[input]: RouteCallArgs<N>): string {
  return `${name}:${JSON.stringify(input ?? {})}`;
}

/** Calls route `name` of the API with the saved key; its answer is decoded by the route's schema. */
export function api<N extends RouteName>(name: N, ...[input]: ApiArgs<N>): Promise<RouteResult<Routes[N]>> {
  return apiWithKey(savedApiKey(), name, ...([input] as ApiArgs<N>));
}

/** `api` with a key of the caller's choosing (signing in checks a key before saving it). */
export async function apiWithKey<N extends RouteName>(
  apiKey: string | null,
  name: N,
  ...[input]: ApiArgs<N>
): Promise<RouteResult<Routes[N]>> {
  const route: AnyRoute = routes[name];
  const given = (input ?? {}) as {
    params?: Record<string, string>;
    query?: object;
    body?: unknown;
    signal?: AbortSignal;
  };
  const { signal } = given;
  let response: Response;
  try {
    response = await fetch(`${API_PREFIX}${routeUrl(route, given)}`, {
      method: route.method,
      headers: {
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        ...(given.body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(given.body !== undefined ? { body: JSON.stringify(given.body) } : {}),
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new RequestError(0, "NETWORK", "the server did not answer: check that it is running and try again");
  }
  if (response.status === 401 && apiKey) window.dispatchEvent(new CustomEvent(keyRefusedEvent));
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const parsed = ErrorBody.safeParse(body);
    if (parsed.success) throw new RequestError(response.status, parsed.data.error.code, parsed.data.error.message);
    throw new RequestError(response.status, "UNKNOWN", `${response.status} ${response.statusText}`);
  }
  const schema = route.responses[response.status as SuccessStatus];
  if (schema === null) return undefined as RouteResult<Routes[N]>;
  if (schema === undefined || isBinary(schema)) {
    throw new RequestError(
      response.status,
      "UNKNOWN",
      `${name} answered ${response.status}, which it does not declare`,
    );
  }
  return schema.parse(body) as RouteResult<Routes[N]>;
}

import { ErrorBody } from "@pedigree/protocol";
import type { z } from "zod";

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

type QueryValue = string | number | boolean | string[] | undefined | null;

export function queryString(query: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) {
      if (value.length > 0) params.set(name, value.join(","));
    } else params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Fired when the server refuses the saved key (revoked or wrong): the app goes back to sign-in. */
export const keyRefusedEvent = "pedigree:key-refused";

/** GET `/api/v1<path>` with the saved key, parsed by the protocol's schema for that answer. */
export async function apiGet<S extends z.ZodType>(
  path: string,
  schema: S,
  apiKey: string | null = savedApiKey(),
  signal?: AbortSignal,
): Promise<z.output<S>> {
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
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
  return schema.parse(body);
}

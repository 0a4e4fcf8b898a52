import type { AnyRoute } from "./route-definition";

/**
 * The one serializer of route URLs, for every client: path parameters encoded into the route's template,
 * query values as `name=value` pairs (an array repeats its name, as OpenAPI's default `form` style does;
 * absent, null and empty values are left out). Answers the URL below `/api/v1`, starting with `/`.
 */
export function routeUrl(
  route: Pick<AnyRoute, "path">,
  input: { params?: Record<string, string>; query?: object } = {},
): string {
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = input.params?.[name];
    if (value === undefined) throw new Error(`${route.path}: the path parameter '${name}' is missing`);
    return encodeURIComponent(value);
  });
  return path + queryString(input.query);
}

type QueryValue = string | number | boolean | null | undefined;

function queryString(query: object | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query) as [string, QueryValue | QueryValue[]][]) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null || item === "") continue;
      params.append(name, String(item));
    }
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

import type { z } from "zod";

/**
 * What one route of the API is: method, path, the schemas of its path parameters, query, body and answers,
 * and the permission it needs. The server registers and validates routes from these definitions, the SDK
 * and the web app call them by name, and the OpenAPI document is generated from them. Pure data: no I/O.
 */

/** Where the routes of the table live: every route's path is below it. */
export const API_PREFIX = "/api/v1";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

type Level = "read" | "write" | "admin";

/**
 * What a route needs of its caller:
 * - `public`: nothing, not even a key;
 * - `user`: any valid key (the caller's own keys, projects and account);
 * - `server:admin`: a server admin;
 * - `blob:write`: the member or admin role in some project (uploads are for a version the caller is logging);
 * - `project:<level>`: the role in the `{project}` of the path (viewer reads, member writes, admin manages
 *   members); a project the caller has no role in answers 404, and a write may create a project;
 * - `registry:<level>`: the role in the `{registry}` of the path, ranked the same way.
 * Server admins hold every permission.
 */
export type Permission = "public" | "user" | "server:admin" | "blob:write" | `project:${Level}` | `registry:${Level}`;

export const PERMISSIONS: readonly Permission[] = [
  "public",
  "user",
  "server:admin",
  "blob:write",
  "project:read",
  "project:write",
  "project:admin",
  "registry:read",
  "registry:write",
  "registry:admin",
];

/** The names of the `{param}`s of a path template. */
export type PathParamNames<P extends string> = P extends `${string}{${infer Name}}${infer Rest}`
  ? Name | PathParamNames<Rest>
  : never;

/** Project permissions need a `{project}` in the path, registry permissions a `{registry}`. */
export type PermissionFor<P extends string> =
  | "public"
  | "user"
  | "server:admin"
  | "blob:write"
  | ("project" extends PathParamNames<P> ? `project:${Level}` : never)
  | ("registry" extends PathParamNames<P> ? `registry:${Level}` : never);

/** A body or answer of raw bytes (`application/octet-stream`), streamed rather than parsed. */
export const binary = { binary: true } as const;
export type Binary = typeof binary;

/** Statuses of success answers; `null` as its schema means no content (204). */
export type SuccessStatus = 200 | 201 | 202 | 204;
/** Statuses of error answers, each `ErrorBody`. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 429;

export type ParamShape<P extends string> = { [Name in PathParamNames<P>]: z.ZodType<string, string> };

interface RouteCommon<M extends Method, P extends string> {
  method: M;
  /** Below `/api/v1`, with `{name}` for each path parameter. */
  path: P;
  summary: string;
  /** Required: a route without one cannot be defined, and the server refuses to register it. */
  permission: PermissionFor<P>;
  query?: z.ZodObject;
  body?: z.ZodType | Binary;
  /** The JSON body may come gzipped (`Content-Encoding: gzip`), as the OpenLineage HTTP transport sends it. */
  acceptsGzip?: boolean;
  responses: { [S in SuccessStatus]?: z.ZodType | Binary | null };
  /** Errors this route answers besides those every route of its kind may (see `errorStatusesOf`). */
  errors?: readonly ErrorStatus[];
}

export type RouteDefinition<M extends Method = Method, P extends string = string> = RouteCommon<M, P> &
  ([PathParamNames<P>] extends [never] ? { params?: undefined } : { params: ParamShape<P> });

/** Any route of the table, for code that handles them all alike. */
export interface AnyRoute {
  method: Method;
  path: string;
  summary: string;
  permission: Permission;
  params?: Record<string, z.ZodType> | undefined;
  query?: z.ZodObject | undefined;
  body?: z.ZodType | Binary | undefined;
  acceptsGzip?: boolean | undefined;
  responses: { [S in SuccessStatus]?: z.ZodType | Binary | null };
  errors?: readonly ErrorStatus[] | undefined;
}

/** Checks a route against its path at compile time and answers it unchanged. */
export function defineRoute<const M extends Method, const P extends string, const R extends RouteDefinition<M, P>>(
  route: R & { method: M; path: P },
): R {
  return route;
}

export function isBinary(schema: unknown): schema is Binary {
  return typeof schema === "object" && schema !== null && (schema as Partial<Binary>).binary === true;
}

/** The error statuses a route documents: the ones its kind may answer, and its own. */
export function errorStatusesOf(route: AnyRoute): ErrorStatus[] {
  const statuses = new Set<ErrorStatus>(route.errors ?? []);
  const hasInput = route.params !== undefined || route.query !== undefined || route.body !== undefined;
  if (hasInput) statuses.add(400);
  if (route.permission !== "public") statuses.add(401);
  if (route.permission !== "public" && route.permission !== "user") statuses.add(403);
  if (route.params !== undefined) statuses.add(404);
  if (route.body !== undefined) statuses.add(413);
  if (route.method !== "GET" && route.permission !== "public") statuses.add(429);
  return [...statuses].sort();
}

type Shape = Record<string, z.ZodType>;
type ShapeInput<S> = S extends Shape ? { [K in keyof S]: z.input<S[K]> } : never;
type ShapeOutput<S> = S extends Shape ? { [K in keyof S]: z.output<S[K]> } : never;

/** The type of an object with no required fields. */
export type Empty = Record<never, never>;

/** `{ key: T }` when the value has required fields, `{ key?: T }` when every field may be left out. */
type Slot<Key extends string, T> = Empty extends T ? { [K in Key]?: T } : { [K in Key]: T };

/** What a caller passes to call a route: its path parameters, query and JSON body. */
export type RouteInput<R extends AnyRoute> = (R["params"] extends Shape ? { params: ShapeInput<R["params"]> } : Empty) &
  (R["query"] extends z.ZodObject ? Slot<"query", z.input<R["query"]>> : Empty) &
  (R["body"] extends Binary ? Empty : R["body"] extends z.ZodType ? Slot<"body", z.input<R["body"]>> : Empty);

/** What a handler receives, parsed: path parameters, query and body after their schemas. */
export interface ParsedRouteInput<R extends AnyRoute> {
  params: R["params"] extends Shape ? ShapeOutput<R["params"]> : Record<string, never>;
  query: R["query"] extends z.ZodObject ? z.output<R["query"]> : Record<string, never>;
  body: R["body"] extends Binary ? undefined : R["body"] extends z.ZodType ? z.output<R["body"]> : undefined;
}

/** The decoded answer of a route: any of its JSON success bodies; `undefined` for 204. */
export type RouteResult<R extends AnyRoute> = {
  [S in keyof R["responses"]]: R["responses"][S] extends z.ZodType
    ? z.output<R["responses"][S]>
    : R["responses"][S] extends null
      ? undefined
      : never;
}[keyof R["responses"]];

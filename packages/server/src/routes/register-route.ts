import {
  type AnyRoute,
  API_PREFIX,
  isBinary,
  type ParsedRouteInput,
  PERMISSIONS,
  type RouteName,
  type Routes,
  routeList,
} from "@pedigree/protocol";
import type { Context, Hono, MiddlewareHandler } from "hono";
import { z } from "zod";
import { requirePermission } from "../auth/gate";
import { requireApiKey } from "../auth/middleware";
import type { AppDeps, AppEnv } from "../context";
import { parseInput } from "../errors";
import { jsonBody, maybeGzippedJsonBody, queryOf } from "./request";

/** Does a route's work from its parsed input; the route table, not the handler, says what the input is. */
export type RouteHandler<R extends AnyRoute> = (
  c: Context<AppEnv>,
  input: ParsedRouteInput<R>,
) => Response | Promise<Response>;

/** Handlers of some routes of the table, by route name. */
export type RouteHandlers<N extends RouteName> = { [K in N]: RouteHandler<Routes[K]> };

/** What every route shares: checks that run before its own gate. */
export interface RouteMiddleware {
  /** Before the gate of every write that needs a key (rate limits). */
  writes: MiddlewareHandler<AppEnv>[];
  /** Before the gate of every route with a JSON body (body size). */
  jsonBodies: MiddlewareHandler<AppEnv>[];
}

/** Registers every route of the table below `/api/v1`, each with its handler. */
export function registerRoutes(
  app: Hono<AppEnv>,
  deps: AppDeps,
  middleware: RouteMiddleware,
  handlers: RouteHandlers<RouteName>,
): void {
  for (const { name, route } of routeList) {
    registerRoute(app, deps, middleware, route, handlers[name] as RouteHandler<AnyRoute>);
  }
}

/**
 * Registers one route: key check (unless public), shared middleware, the gate of its declared permission,
 * then its path parameters, query and body parsed by its schemas (a 400 naming the field), then the handler.
 * A route that declares no permission, or a resource permission without the resource in its path, is refused.
 */
export function registerRoute(
  app: Hono<AppEnv>,
  deps: AppDeps,
  middleware: RouteMiddleware,
  route: AnyRoute,
  handler: RouteHandler<AnyRoute>,
): void {
  const where = `${route.method} ${route.path}`;
  if (!PERMISSIONS.includes(route.permission)) {
    throw new Error(`${where} declares no permission; a route cannot be registered without one`);
  }
  const resource = /^(project|registry):/.exec(route.permission)?.[1];
  if (resource && !route.params?.[resource]) {
    throw new Error(`${where} needs '${route.permission}' but has no {${resource}} in its path`);
  }
  const chain: MiddlewareHandler<AppEnv>[] = [];
  if (route.permission !== "public") chain.push(requireApiKey(deps));
  if (route.permission !== "public" && route.method !== "GET") chain.push(...middleware.writes);
  if (route.body && !isBinary(route.body)) chain.push(...middleware.jsonBodies);
  chain.push(requirePermission(deps, route.permission));
  const params = route.params ? z.object(route.params) : undefined;
  const run: MiddlewareHandler<AppEnv> = async (c) => {
    const input = {
      params: params ? parseInput(params, c.req.param()) : {},
      query: route.query ? queryOf(c, route.query) : {},
      body:
        route.body && !isBinary(route.body)
          ? route.acceptsGzip
            ? await maybeGzippedJsonBody(c, route.body, deps.config.maxJsonBodyBytes)
            : await jsonBody(c, route.body)
          : undefined,
    };
    return handler(c, input as ParsedRouteInput<AnyRoute>);
  };
  app.on([route.method], [`${API_PREFIX}${honoPath(route.path)}`], ...chain, run);
}

/** `/projects/{project}/runs` → `/projects/:project/runs`. */
export function honoPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ":$1");
}

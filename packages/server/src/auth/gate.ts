import type { Permission } from "@pedigree/protocol";
import type { MiddlewareHandler } from "hono";
import type { AppDeps, AppEnv } from "../context";
import { assertServerAdmin, authorizeBlobUpload, requireProjectAccess, requireRegistryAccess } from "./access";

const levels = { read: "read", write: "write", admin: "manage" } as const;

/**
 * The gate of one route, built from the permission the route table declares for it: nothing is inferred
 * from the URL. Runs after the key is checked; what each level means is `auth/access.ts`.
 */
export function requirePermission(deps: AppDeps, permission: Permission): MiddlewareHandler<AppEnv> {
  switch (permission) {
    case "public":
    case "user":
      return (_c, next) => next();
    case "server:admin":
      return async (c, next) => {
        assertServerAdmin(c.get("actor"));
        await next();
      };
    case "blob:write":
      return async (c, next) => {
        await deps.db.read((db) => authorizeBlobUpload(db, c.get("actor")));
        await next();
      };
    case "project:read":
    case "project:write":
    case "project:admin":
      return requireProjectAccess(deps, levels[permission.slice("project:".length) as keyof typeof levels]);
    case "registry:read":
    case "registry:write":
    case "registry:admin":
      return requireRegistryAccess(deps, levels[permission.slice("registry:".length) as keyof typeof levels]);
    default:
      throw new Error(`'${String(permission)}' is not a permission; every route declares one (protocol routes.ts)`);
  }
}

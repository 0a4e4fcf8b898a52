import type { MiddlewareHandler } from "hono";
import type { AppDeps, AppEnv } from "../context";
import { ApiError } from "../errors";
import { hashApiKey } from "./keys";
import { authenticate } from "./users";

/** Every route not declared `public` needs `Authorization: Bearer <key>`; the key's user becomes the actor. */
export function requireApiKey(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1])
      throw new ApiError("UNAUTHORIZED", "send an API key as 'Authorization: Bearer <key>'", "authorization");
    const apiKey = match[1];
    const keyHash = hashApiKey(apiKey);
    const now = deps.clock.now();
    let actor = deps.keyCache.get(keyHash, now.getTime());
    if (!actor) {
      const found = await deps.db.read((db) => authenticate(db, apiKey, now));
      if (!found) throw new ApiError("UNAUTHORIZED", "the API key is unknown, revoked or expired", "authorization");
      actor = found.actor;
      deps.keyCache.set(keyHash, actor, found.keyExpiresAt?.getTime() ?? null, now.getTime());
    }
    c.set("actor", actor);
    await next();
  };
}

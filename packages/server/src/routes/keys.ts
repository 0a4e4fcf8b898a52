import { CreateKeyBody, KeyId } from "@pedigree/protocol";
import { Hono } from "hono";
import { createApiKey, listApiKeys, revokeApiKey } from "../auth/api-keys";
import type { AppDeps, AppEnv } from "../context";
import { parseInput } from "../errors";
import { jsonBody } from "./request";

/** /api/v1/keys: the caller's own API keys. A new key is shown once; a revoked key stops working at once. */
export function keyRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .get("/", async (c) => c.json({ keys: await deps.db.read((db) => listApiKeys(db, c.get("actor").userId)) }))
    .post("/", async (c) => {
      const body = await jsonBody(c, CreateKeyBody);
      const input = { userId: c.get("actor").userId, ...body, now: deps.clock.now() };
      return c.json(await deps.db.transaction((tx) => createApiKey(tx, input)), 201);
    })
    .delete("/:keyId", async (c) => {
      const keyId = parseInput(KeyId, c.req.param("keyId"), "keyId");
      const revoked = await deps.db.transaction((tx) => revokeApiKey(tx, c.get("actor"), keyId, deps.clock.now()));
      // Cached look-ups of the key end here, so the next request with it is refused.
      deps.keyCache.forget(revoked.userId);
      return c.json(revoked);
    });
}

import { CreateUserBody } from "@pedigree/protocol";
import { Hono } from "hono";
import { assertServerAdmin } from "../auth/access";
import { createUser, listUsers } from "../auth/users";
import type { AppDeps, AppEnv } from "../context";
import { jsonBody } from "./request";

/** /api/v1/users: server admins create users (each with a first key, shown once) and list them. */
export function userRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .use(async (c, next) => {
      assertServerAdmin(c.get("actor"));
      await next();
    })
    .get("/", async (c) => c.json({ users: await deps.db.read((db) => listUsers(db)) }))
    .post("/", async (c) => {
      const body = await jsonBody(c, CreateUserBody);
      return c.json(await deps.db.transaction((tx) => createUser(tx, body, deps.clock.now())), 201);
    });
}

import { RegistryName, SetMemberBody, UserName } from "@pedigree/protocol";
import { type Context, Hono } from "hono";
import type { AppDeps, AppEnv } from "../context";
import { parseInput } from "../errors";
import { listMembers, removeMember, setMember } from "../projects";
import { listRegistryMembers, removeRegistryMember, setRegistryMember } from "../registry/members";
import { jsonBody, projectOf } from "./request";

/** /api/v1/projects/:project/members: who has which role. Reading needs a role; changing needs admin. */
export function memberRoutes(deps: AppDeps) {
  const userOf = (param: string | undefined) => parseInput(UserName, param, "user");
  return new Hono<AppEnv>()
    .get("/", async (c) => c.json({ members: await deps.db.read((db) => listMembers(db, projectOf(c))) }))
    .put("/:user", async (c) => {
      const user = userOf(c.req.param("user"));
      const { role } = await jsonBody(c, SetMemberBody);
      const member = await deps.db.transaction((tx) => setMember(tx, projectOf(c), user, role));
      deps.accessCache.forget(projectOf(c));
      return c.json(member);
    })
    .delete("/:user", async (c) => {
      const user = userOf(c.req.param("user"));
      await deps.db.transaction((tx) => removeMember(tx, projectOf(c), user));
      deps.accessCache.forget(projectOf(c));
      return c.body(null, 204);
    });
}

/** /api/v1/registries/:registry/members: whoever reads the registry reads them; registry (and server) admins change them. */
export function registryMemberRoutes(deps: AppDeps) {
  const userOf = (param: string | undefined) => parseInput(UserName, param, "user");
  const registryOf = (c: Context<AppEnv>) => parseInput(RegistryName, c.req.param("registry"), "registry");
  return new Hono<AppEnv>()
    .get("/", async (c) => c.json({ members: await deps.db.read((db) => listRegistryMembers(db, registryOf(c))) }))
    .put("/:user", async (c) => {
      const user = userOf(c.req.param("user"));
      const { role } = await jsonBody(c, SetMemberBody);
      return c.json(await deps.db.transaction((tx) => setRegistryMember(tx, registryOf(c), user, role)));
    })
    .delete("/:user", async (c) => {
      const user = userOf(c.req.param("user"));
      await deps.db.transaction((tx) => removeRegistryMember(tx, registryOf(c), user));
      return c.body(null, 204);
    });
}

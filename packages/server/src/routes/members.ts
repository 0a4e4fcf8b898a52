import type { AppDeps } from "../context";
import { listMembers, removeMember, setMember } from "../projects";
import { listRegistryMembers, removeRegistryMember, setRegistryMember } from "../registry/members";
import type { RouteHandlers } from "./register-route";

/** /api/v1/projects/:project/members: who has which role. Reading needs a role; changing needs admin. */
export function memberRoutes(
  deps: AppDeps,
): RouteHandlers<"listProjectMembers" | "setProjectMember" | "removeProjectMember"> {
  return {
    listProjectMembers: async (c, { params: { project } }) =>
      c.json({ members: await deps.db.read((db) => listMembers(db, project)) }),
    setProjectMember: async (c, { params: { project, user }, body: { role } }) => {
      const member = await deps.db.transaction((tx) => setMember(tx, project, user, role));
      deps.accessCache.forget(project);
      return c.json(member);
    },
    removeProjectMember: async (c, { params: { project, user } }) => {
      await deps.db.transaction((tx) => removeMember(tx, project, user));
      deps.accessCache.forget(project);
      return c.body(null, 204);
    },
  };
}

/** /api/v1/registries/:registry/members: whoever reads the registry reads them; registry (and server) admins change them. */
export function registryMemberRoutes(
  deps: AppDeps,
): RouteHandlers<"listRegistryMembers" | "setRegistryMember" | "removeRegistryMember"> {
  return {
    listRegistryMembers: async (c, { params: { registry } }) =>
      c.json({ members: await deps.db.read((db) => listRegistryMembers(db, registry)) }),
    setRegistryMember: async (c, { params: { registry, user }, body: { role } }) => {
      return c.json(await deps.db.transaction((tx) => setRegistryMember(tx, registry, user, role)));
    },
    removeRegistryMember: async (c, { params: { registry, user } }) => {
      await deps.db.transaction((tx) => removeRegistryMember(tx, registry, user));
      return c.body(null, 204);
    },
  };
}

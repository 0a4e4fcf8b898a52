import { createUser, listUsers } from "../auth/users";
import type { AppDeps } from "../context";
import type { RouteHandlers } from "./register-route";

/** /api/v1/users: server admins create users (each with a first key, shown once) and list them. */
export function userRoutes(deps: AppDeps): RouteHandlers<"listUsers" | "createUser"> {
  return {
    listUsers: async (c) => c.json({ users: await deps.db.read((db) => listUsers(db)) }),
    createUser: async (c, { body }) => {
      return c.json(await deps.db.transaction((tx) => createUser(tx, body, deps.clock.now())), 201);
    },
  };
}

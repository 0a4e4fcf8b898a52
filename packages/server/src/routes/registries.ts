import type { Context } from "hono";
import { getVersionDetails } from "../artifacts/details";
import { findVersionFile } from "../artifacts/files";
import { authorizeProject } from "../auth/access";
import type { AppDeps, AppEnv } from "../context";
import { type Db, sql } from "../db/client";
import { projectVisibility } from "../lineage/visibility";
import { removeCollectionAlias, setCollectionAlias, setVersionAliases } from "../registry/collection-aliases";
import {
  createCollection,
  findCollection,
  getCollection,
  listCollections,
  listCollectionVersions,
  updateCollection,
} from "../registry/collections";
import type { RegistryContext } from "../registry/context";
import { listHistory, verifyHistory } from "../registry/history";
import { linkVersion, unlinkVersion } from "../registry/links";
import { namesOf } from "../registry/present";
import { resolveLinkedVersion } from "../registry/refs";
import { createRegistry, listRegistries, requireRegistry, toRegistry, updateRegistry } from "../registry/registries";
import type { RouteHandlers } from "./register-route";
import { answerStoredFile } from "./versions";

type RegistryRouteName =
  | "createRegistry"
  | "listRegistries"
  | "getRegistry"
  | "updateRegistry"
  | "listCollections"
  | "createCollection"
  | "getCollection"
  | "updateCollection"
  | "listCollectionVersions"
  | "getCollectionVersion"
  | "downloadCollectionVersionFile"
  | "linkVersion"
  | "unlinkVersion"
  | "setVersionAliases"
  | "setCollectionAlias"
  | "removeCollectionAlias"
  | "listHistory"
  | "verifyHistory";

/** /api/v1/registries: registries, their collections, links, collection aliases and the action history. */
export function registryRoutes(deps: AppDeps): RouteHandlers<RegistryRouteName> {
  const contextOf = (c: Context<AppEnv>): RegistryContext => {
    const actor = c.get("actor");
    const role = c.get("registryRole") ?? (actor.isAdmin ? "admin" : null);
    return { actor, now: () => deps.clock.now(), role };
  };
  const findChain = async (db: Db, path: { registry: string; collection: string }) => {
    const registry = await requireRegistry(db, path.registry);
    const collection = await findCollection(db, registry, path.collection);
    return { ...namesOf(registry.name, collection), eventCount: collection.eventCount, headHash: collection.headHash };
  };

  return {
    createRegistry: async (c, { body: { name, ...settings } }) => {
      const ctx = contextOf(c);
      const result = await deps.db.transaction((tx) => createRegistry(tx, ctx, { name, ...settings }));
      return c.json(result.registry, result.created ? 201 : 200);
    },
    listRegistries: async (c) =>
      c.json({ registries: await deps.db.read((db) => listRegistries(db, c.get("actor").userId)) }),
    getRegistry: async (c, { params: { registry: name } }) => {
      return c.json(toRegistry(await deps.db.read((db) => requireRegistry(db, name))));
    },
    updateRegistry: async (c, { params: { registry: name }, body }) => {
      return c.json(await deps.db.transaction((tx) => updateRegistry(tx, name, body)));
    },
    listCollections: async (c, { params: { registry }, query }) => {
      return c.json(await deps.db.read((db) => listCollections(db, registry, query)));
    },
    createCollection: async (c, { params: { registry }, body }) => {
      const ctx = contextOf(c);
      const result = await deps.db.transaction((tx) => createCollection(tx, ctx, registry, body));
      return c.json(result.collection, result.created ? 201 : 200);
    },
    getCollection: async (c, { params: path }) => {
      return c.json(await deps.db.read((db) => getCollection(db, path.registry, path.collection)));
    },
    updateCollection: async (c, { params: path, body }) => {
      const ctx = contextOf(c);
      return c.json(await deps.db.transaction((tx) => updateCollection(tx, ctx, path.registry, path.collection, body)));
    },
    listCollectionVersions: async (c, { params: path }) => {
      const versions = await deps.db.read((db) => listCollectionVersions(db, path.registry, path.collection));
      return c.json({ versions });
    },
    getCollectionVersion: async (c, { params: path }) => {
      return c.json(
        await deps.db.read(async (db) => {
          const visibility = await projectVisibility(db, c.get("actor"));
          return getVersionDetails(db, await resolveLinkedVersion(db, path, visibility.reader), visibility);
        }),
      );
    },
    downloadCollectionVersionFile: async (c, { params: path, query: { path: file, direct } }) => {
      const stored = await deps.db.read(async (db) => {
        const { version } = await resolveLinkedVersion(db, path, c.get("actor").userId);
        return findVersionFile(db, version.project, version.id, file);
      });
      return answerStoredFile(c, deps, stored, direct ?? false);
    },
    linkVersion: async (c, { params: path, body }) => {
      // Linking publishes a version of a project: the linker must be able to read that project.
      await deps.db.read((db) => authorizeProject(db, c.get("actor"), body.project, "read"));
      const ctx = contextOf(c);
      const result = await deps.db.transaction((tx) => linkVersion(tx, ctx, path, body));
      return c.json(result, result.linked ? 201 : 200);
    },
    unlinkVersion: async (c, { params: path }) => {
      const ctx = contextOf(c);
      await deps.db.transaction((tx) => unlinkVersion(tx, ctx, path));
      return c.body(null, 204);
    },
    setVersionAliases: async (c, { params: path, body }) => {
      const ctx = contextOf(c);
      return c.json(await deps.db.transaction((tx) => setVersionAliases(tx, ctx, path, body)));
    },
    setCollectionAlias: async (c, { params: path, body }) => {
      const ctx = contextOf(c);
      return c.json(await deps.db.transaction((tx) => setCollectionAlias(tx, ctx, path, body)));
    },
    removeCollectionAlias: async (c, { params: path }) => {
      const ctx = contextOf(c);
      await deps.db.transaction((tx) => removeCollectionAlias(tx, ctx, path));
      return c.body(null, 204);
    },
    listHistory: async (c, { params: path, query }) => {
      return c.json(await deps.db.read(async (db) => listHistory(db, await findChain(db, path), query)));
    },
    verifyHistory: async (c, { params: path, query }) => {
      const since =
        query.sinceSeq !== undefined && query.sinceHash !== undefined
          ? { seq: query.sinceSeq, hash: query.sinceHash }
          : undefined;
      const verification = await deps.db.transaction(async (tx) => {
        // One snapshot for the chain and the state it is compared with, however long the chain.
        await tx.execute(sql`set transaction isolation level repeatable read, read only`);
        const registry = await requireRegistry(tx, path.registry);
        const collection = await findCollection(tx, registry, path.collection);
        return verifyHistory(tx, namesOf(registry.name, collection), collection, since);
      });
      return c.json(verification);
    },
  };
}

import {
  AliasName,
  CollectionListQuery,
  CollectionName,
  CollectionVersionSelector,
  CreateCollectionBody,
  CreateRegistryBody,
  HistoryQuery,
  HistoryVerifyQuery,
  hasStorableVersionNumber,
  LinkBody,
  RegistryName,
  SetCollectionAliasBody,
  SetVersionAliasesBody,
  UpdateCollectionBody,
  UpdateRegistryBody,
  VersionFileQuery,
  versionNumberLimit,
} from "@pedigree/protocol";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { getVersionDetails } from "../artifacts/details";
import { findVersionFile } from "../artifacts/files";
import { authorizeProject } from "../auth/access";
import type { AppDeps, AppEnv } from "../context";
import { type Db, sql } from "../db/client";
import { parseInput } from "../errors";
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
import { jsonBody, queryOf } from "./request";
import { answerStoredFile } from "./versions";

/** A linked version as a path names it: the collection's `vN`, an alias, `latest`, or an artifact version id. */
const LinkedVersionSelector = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "give a vN, an alias or a version id")
  .refine(hasStorableVersionNumber, versionNumberLimit);

/** /api/v1/registries: registries, their collections, links, collection aliases and the action history. */
export function registryRoutes(deps: AppDeps) {
  const registryOf = (c: Context<AppEnv>) => parseInput(RegistryName, c.req.param("registry"), "registry");
  const collectionPath = (c: Context<AppEnv>) => ({
    registry: registryOf(c),
    collection: parseInput(CollectionName, c.req.param("collection"), "collection"),
  });
  const linkedPath = (c: Context<AppEnv>) => ({
    ...collectionPath(c),
    version: parseInput(LinkedVersionSelector, c.req.param("version"), "version"),
  });
  const versionPath = (c: Context<AppEnv>) => ({
    ...collectionPath(c),
    version: parseInput(CollectionVersionSelector, c.req.param("version"), "version"),
  });
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

  return new Hono<AppEnv>()
    .post("/", async (c) => {
      const { name, ...settings } = await jsonBody(c, CreateRegistryBody);
      const ctx = contextOf(c);
      const result = await deps.db.transaction((tx) => createRegistry(tx, ctx, { name, ...settings }));
      return c.json(result.registry, result.created ? 201 : 200);
    })
    .get("/", async (c) =>
      c.json({ registries: await deps.db.read((db) => listRegistries(db, c.get("actor").userId)) }),
    )
    .get("/:registry", async (c) => {
      const name = registryOf(c);
      return c.json(toRegistry(await deps.db.read((db) => requireRegistry(db, name))));
    })
    .patch("/:registry", async (c) => {
      const name = registryOf(c);
      const body = await jsonBody(c, UpdateRegistryBody);
      return c.json(await deps.db.transaction((tx) => updateRegistry(tx, name, body)));
    })
    .get("/:registry/collections", async (c) => {
      const registry = registryOf(c);
      const query = queryOf(c, CollectionListQuery);
      return c.json(await deps.db.read((db) => listCollections(db, registry, query)));
    })
    .post("/:registry/collections", async (c) => {
      const registry = registryOf(c);
      const body = await jsonBody(c, CreateCollectionBody);
      const ctx = contextOf(c);
      const result = await deps.db.transaction((tx) => createCollection(tx, ctx, registry, body));
      return c.json(result.collection, result.created ? 201 : 200);
    })
    .get("/:registry/collections/:collection", async (c) => {
      const path = collectionPath(c);
      return c.json(await deps.db.read((db) => getCollection(db, path.registry, path.collection)));
    })
    .patch("/:registry/collections/:collection", async (c) => {
      const path = collectionPath(c);
      const body = await jsonBody(c, UpdateCollectionBody);
      const ctx = contextOf(c);
      return c.json(await deps.db.transaction((tx) => updateCollection(tx, ctx, path.registry, path.collection, body)));
    })
    .get("/:registry/collections/:collection/versions", async (c) => {
      const path = collectionPath(c);
      const versions = await deps.db.read((db) => listCollectionVersions(db, path.registry, path.collection));
      return c.json({ versions });
    })
    .get("/:registry/collections/:collection/versions/:version", async (c) => {
      const path = linkedPath(c);
      return c.json(
        await deps.db.read(async (db) => {
          const visibility = await projectVisibility(db, c.get("actor"));
          return getVersionDetails(db, await resolveLinkedVersion(db, path, visibility.reader), visibility);
        }),
      );
    })
    .get("/:registry/collections/:collection/versions/:version/files", async (c) => {
      const path = linkedPath(c);
      const { path: file, direct } = queryOf(c, VersionFileQuery);
      const stored = await deps.db.read(async (db) => {
        const { version } = await resolveLinkedVersion(db, path, c.get("actor").userId);
        return findVersionFile(db, version.project, version.id, file);
      });
      return answerStoredFile(c, deps, stored, direct ?? false);
    })
    .post("/:registry/collections/:collection/versions", async (c) => {
      const path = collectionPath(c);
      const body = await jsonBody(c, LinkBody);
      // Linking publishes a version of a project: the linker must be able to read that project.
      await deps.db.read((db) => authorizeProject(db, c.get("actor"), body.project, "read"));
      const ctx = contextOf(c);
      const result = await deps.db.transaction((tx) => linkVersion(tx, ctx, path, body));
      return c.json(result, result.linked ? 201 : 200);
    })
    .delete("/:registry/collections/:collection/versions/:version", async (c) => {
      const path = versionPath(c);
      const ctx = contextOf(c);
      await deps.db.transaction((tx) => unlinkVersion(tx, ctx, path));
      return c.body(null, 204);
    })
    .put("/:registry/collections/:collection/versions/:version/aliases", async (c) => {
      const path = versionPath(c);
      const body = await jsonBody(c, SetVersionAliasesBody);
      const ctx = contextOf(c);
      return c.json(await deps.db.transaction((tx) => setVersionAliases(tx, ctx, path, body)));
    })
    .put("/:registry/collections/:collection/aliases/:alias", async (c) => {
      const path = { ...collectionPath(c), alias: parseInput(AliasName, c.req.param("alias"), "alias") };
      const body = await jsonBody(c, SetCollectionAliasBody);
      const ctx = contextOf(c);
      return c.json(await deps.db.transaction((tx) => setCollectionAlias(tx, ctx, path, body)));
    })
    .delete("/:registry/collections/:collection/aliases/:alias", async (c) => {
      const path = { ...collectionPath(c), alias: parseInput(AliasName, c.req.param("alias"), "alias") };
      const ctx = contextOf(c);
      await deps.db.transaction((tx) => removeCollectionAlias(tx, ctx, path));
      return c.body(null, 204);
    })
    .get("/:registry/collections/:collection/history", async (c) => {
      const path = collectionPath(c);
      const query = queryOf(c, HistoryQuery);
      return c.json(await deps.db.read(async (db) => listHistory(db, await findChain(db, path), query)));
    })
    .get("/:registry/collections/:collection/history/verify", async (c) => {
      const path = collectionPath(c);
      const query = queryOf(c, HistoryVerifyQuery);
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
    });
}

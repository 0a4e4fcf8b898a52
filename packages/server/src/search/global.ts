/**
 * The global search: runs, artifacts, versions and collections the reader can read whose name starts with `q`
 * (case-insensitive), each kind one index range scan (`foldedName`), newest or alphabetical first.
 */
import type { SearchHit, SearchKind, SearchQuery, SearchResults } from "@pedigree/protocol";
import { and, asc, desc, eq, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { z } from "zod";
import { registryReadableBy } from "../auth/access";
import type { Db } from "../db/client";
import { artifacts, collections, registries, runs, versions } from "../db/schema";
import { inVisibleProject, type ProjectVisibility } from "../lineage/visibility";
import { nameStartsWith } from "./names";

const ALL_KINDS: SearchKind[] = ["run", "artifact", "version", "collection"];

export async function searchEverything(
  db: Db,
  query: z.output<typeof SearchQuery>,
  visibility: ProjectVisibility,
): Promise<SearchResults> {
  const kinds = new Set(query.kinds && query.kinds.length > 0 ? query.kinds : ALL_KINDS);
  const { q, limit } = query;
  const inProject = (column: AnyPgColumn) =>
    and(inVisibleProject(column, visibility), query.project ? eq(column, query.project) : undefined);
  const count = sql<number>`count(*) over ()::int`;
  const hits: SearchHit[] = [];
  const totals: Record<SearchKind, number> = { run: 0, artifact: 0, version: 0, collection: 0 };

  if (kinds.has("run")) {
    const rows = await db
      .select({ id: runs.id, name: runs.name, type: runs.jobType, scope: runs.project, total: count })
      .from(runs)
      .where(and(nameStartsWith(runs.name, q), inProject(runs.project)))
      .orderBy(desc(runs.startedAt))
      .limit(limit);
    totals.run = Number(rows[0]?.total ?? 0);
    hits.push(...rows.map(({ total: _total, ...row }) => ({ kind: "run" as const, ...row })));
  }
  if (kinds.has("artifact") || kinds.has("version")) {
    const matching = and(nameStartsWith(artifacts.name, q), inProject(artifacts.project));
    if (kinds.has("artifact")) {
      const rows = await db
        .select({ name: artifacts.name, type: artifacts.type, scope: artifacts.project, total: count })
        .from(artifacts)
        .where(matching)
        .orderBy(asc(artifacts.name))
        .limit(limit);
      totals.artifact = Number(rows[0]?.total ?? 0);
      hits.push(
        ...rows.map((row) => ({
          kind: "artifact" as const,
          id: `${row.scope}/${row.name}`,
          name: row.name,
          type: row.type,
          scope: row.scope,
        })),
      );
    }
    if (kinds.has("version")) {
      const rows = await db
        .select({
          id: versions.id,
          name: sql<string>`${artifacts.name} || ':v' || ${versions.index}`,
          type: artifacts.type,
          scope: versions.project,
          total: count,
        })
        .from(artifacts)
        .innerJoin(versions, eq(versions.artifactId, artifacts.id))
        .where(and(matching, eq(versions.state, "committed")))
        .orderBy(asc(artifacts.name), desc(versions.index))
        .limit(limit);
      totals.version = Number(rows[0]?.total ?? 0);
      hits.push(...rows.map(({ total: _total, ...row }) => ({ kind: "version" as const, ...row })));
    }
  }
  if (kinds.has("collection")) {
    const rows = await db
      .select({ name: collections.name, type: collections.type, scope: registries.name, total: count })
      .from(collections)
      .innerJoin(registries, eq(registries.id, collections.registryId))
      .where(and(nameStartsWith(collections.name, q), registryReadableBy(visibility.reader)))
      .orderBy(asc(collections.name))
      .limit(limit);
    totals.collection = Number(rows[0]?.total ?? 0);
    hits.push(
      ...rows.map((row) => ({
        kind: "collection" as const,
        id: `${row.scope}/${row.name}`,
        name: row.name,
        type: row.type,
        scope: row.scope,
      })),
    );
  }
  return { q, totals, hits };
}

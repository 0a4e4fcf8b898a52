import { and, eq, inArray, ne, not, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Actor } from "../auth/actor";
import type { Db } from "../db/client";
import { projectMembers, runs, versions } from "../db/schema";
import type { WalkedEdge, WalkedGraph } from "./walk";

/**
 * What a reader may see of runs and versions outside the project it asked about: lineage crosses projects
 * where a run used a version of another project, and a version's details list runs of any project. A reader
 * sees only the projects it has a role in (server admins see all). Lineage leaves the nodes of other projects
 * out, with no hidden edge through them, and so whatever is then no longer connected to the base; version
 * details leave their runs out of producers and consumers. `inVisibleProject` is that one rule; names and
 * digests of a project never leak through another project's lineage or details.
 */
export type ProjectVisibility = {
  /** The reader's user id: registry refs met on the way need read access to their registry. */
  reader: string;
} & ({ all: true } | { all: false; projects: Set<string> });

export async function projectVisibility(db: Db, actor: Pick<Actor, "userId" | "isAdmin">): Promise<ProjectVisibility> {
  if (actor.isAdmin) return { reader: actor.userId, all: true };
  const rows = await db
    .select({ project: projectMembers.project })
    .from(projectMembers)
    .where(eq(projectMembers.userId, actor.userId));
  return { reader: actor.userId, all: false, projects: new Set(rows.map((row) => row.project)) };
}

/** The rule, as a condition on a row's project column: true where the reader may see the row. */
export function inVisibleProject(project: AnyPgColumn, visibility: ProjectVisibility): SQL | undefined {
  if (visibility.all) return undefined;
  return visibility.projects.size > 0 ? inArray(project, [...visibility.projects]) : sql`false`;
}

/**
 * The graph without the nodes of projects the reader cannot see, and without what they alone connected. The
 * base stays whatever its project: it was resolved for this reader (in the project, or through a registry
 * the reader reads), and it is what the reader asked about.
 */
export async function keepVisibleNodes(
  db: Db,
  graph: WalkedGraph,
  project: string,
  visibility: ProjectVisibility,
): Promise<WalkedGraph> {
  const unseen = await unseenNodes(
    db,
    [...graph.nodes.keys()].filter((id) => id !== graph.base.id),
    project,
    visibility,
  );
  return leaveOutNodes(graph, unseen);
}

/** The graph without `unseen` nodes, and without what they alone connected to the base. */
export function leaveOutNodes(graph: WalkedGraph, unseen: Set<string>): WalkedGraph {
  if (unseen.size === 0) return graph;
  const edges = graph.edges.filter((edge) => !unseen.has(edge.source) && !unseen.has(edge.target));
  const connected = reachableFrom(graph.base.id, edges);
  return {
    ...graph,
    nodes: new Map([...graph.nodes].filter(([id]) => connected.has(id))),
    edges: edges.filter((edge) => connected.has(edge.source) && connected.has(edge.target)),
  };
}

/** The ids among `ids` that belong to projects (other than `project`, which the gate let through) the reader cannot see. */
export async function unseenNodes(
  db: Db,
  ids: string[],
  project: string,
  visibility: ProjectVisibility,
): Promise<Set<string>> {
  const unseen = new Set<string>();
  if (visibility.all) return unseen;
  for (let start = 0; start < ids.length; start += 5000) {
    const chunk = ids.slice(start, start + 5000);
    const versionRows = await db
      .select({ id: versions.id })
      .from(versions)
      .where(and(inArray(versions.id, chunk), isUnseen(versions.project, project, visibility)));
    const runRows = await db
      .select({ id: runs.id })
      .from(runs)
      .where(and(inArray(runs.id, chunk), isUnseen(runs.project, project, visibility)));
    for (const row of [...versionRows, ...runRows]) unseen.add(row.id);
  }
  return unseen;
}

/** The rule for a node of a lineage graph of `project`, as a condition on its project column: true where it is left out. */
export function isUnseen(column: AnyPgColumn, project: string, visibility: ProjectVisibility): SQL {
  if (visibility.all) return sql`false`;
  return and(ne(column, project), not(inVisibleProject(column, visibility) ?? sql`true`)) as SQL;
}

/** Every node joined to `start` by edges, in either direction. */
export function reachableFrom(start: string, edges: WalkedEdge[]): Set<string> {
  const neighbours = new Map<string, string[]>();
  const link = (from: string, to: string) => {
    const list = neighbours.get(from);
    if (list) list.push(to);
    else neighbours.set(from, [to]);
  };
  for (const { source, target } of edges) {
    link(source, target);
    link(target, source);
  }
  const seen = new Set([start]);
  const stack = [start];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    for (const next of neighbours.get(node) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return seen;
}

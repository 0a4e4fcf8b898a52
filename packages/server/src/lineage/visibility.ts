import { and, eq, inArray, ne } from "drizzle-orm";
import type { Actor } from "../auth/actor";
import type { Db } from "../db/client";
import { projectMembers, runs, versions } from "../db/schema";
import type { WalkedEdge, WalkedGraph } from "./walked-graph";

/**
 * Lineage crosses projects where a run used a version of another project. A reader sees only the projects it
 * has a role in (server admins see all): the nodes of other projects are left out, with no hidden edge through
 * them, and so is whatever is then no longer connected to the base. Names and digests of a project never leak
 * through another project's lineage.
 */
export type ProjectVisibility = { all: true } | { all: false; projects: Set<string> };

export async function projectVisibility(db: Db, actor: Pick<Actor, "userId" | "isAdmin">): Promise<ProjectVisibility> {
  if (actor.isAdmin) return { all: true };
  const rows = await db
    .select({ project: projectMembers.project })
    .from(projectMembers)
    .where(eq(projectMembers.userId, actor.userId));
  return { all: false, projects: new Set(rows.map((row) => row.project)) };
}

/** The graph without the nodes of projects the reader cannot see, and without what they alone connected. */
export async function keepVisibleNodes(
  db: Db,
  graph: WalkedGraph,
  project: string,
  visibility: ProjectVisibility,
): Promise<WalkedGraph> {
  const unseen = await unseenNodes(db, [...graph.nodes.keys()], project, visibility);
  if (unseen.size === 0) return graph;
  const edges = graph.edges.filter((edge) => !unseen.has(edge.source) && !unseen.has(edge.target));
  const connected = reachableFrom(graph.base.id, edges);
  return {
    ...graph,
    nodes: new Map([...graph.nodes].filter(([id]) => connected.has(id))),
    edges: edges.filter((edge) => connected.has(edge.source) && connected.has(edge.target)),
  };
}

/** The ids among `ids` that belong to projects the reader cannot see. */
export async function unseenNodes(
  db: Db,
  ids: string[],
  project: string,
  visibility: ProjectVisibility,
): Promise<Set<string>> {
  if (visibility.all) return new Set();
  const foreign = await nodesOutsideProject(db, ids, project);
  return new Set([...foreign].filter(([, owner]) => !visibility.projects.has(owner)).map(([id]) => id));
}

/** Node id → project, for the walked versions and runs that belong to another project than `project`. */
async function nodesOutsideProject(db: Db, ids: string[], project: string): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  for (let start = 0; start < ids.length; start += 5000) {
    const chunk = ids.slice(start, start + 5000);
    const versionRows = await db
      .select({ id: versions.id, project: versions.project })
      .from(versions)
      .where(and(inArray(versions.id, chunk), ne(versions.project, project)));
    const runRows = await db
      .select({ id: runs.id, project: runs.project })
      .from(runs)
      .where(and(inArray(runs.id, chunk), ne(runs.project, project)));
    for (const row of [...versionRows, ...runRows]) owners.set(row.id, row.project);
  }
  return owners;
}

function reachableFrom(start: string, edges: WalkedEdge[]): Set<string> {
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

/** Impact: every descendant version and run of a node, grouped by artifact type, job type and collection. */
import {
  type Impact,
  type ImpactQuery,
  impactGroupLimit,
  Limits,
  type RunNode,
  type VersionNode,
} from "@pedigree/protocol";
import type { z } from "zod";
import type { Db } from "../db/client";
import { collectionsHolding } from "../registry/memberships";
import { resolveBaseNode } from "./base";
import { summarizeNodes } from "./summaries";
import { keepVisibleNodes, type ProjectVisibility } from "./visibility";
import { type WalkedNode, walkLineage } from "./walk";

export async function getImpact(
  db: Db,
  project: string,
  query: z.output<typeof ImpactQuery>,
  visibility: ProjectVisibility,
): Promise<Impact> {
  const asOf = query.asOf ? new Date(query.asOf) : undefined;
  const base = await resolveBaseNode(db, project, query, { reader: visibility.reader, asOf, field: "node" });
  const walked = await walkLineage(db, base, { upstream: 0, downstream: Limits.maxHops, asOf });
  const graph = await keepVisibleNodes(db, walked, project, visibility);
  const descendants = [...graph.nodes.values()].filter((node) => node.id !== base.id);
  const versionGroups = groupBy(
    descendants.filter((node) => node.kind === "version"),
    (node) => node.type,
  );
  const runGroups = groupBy(
    descendants.filter((node) => node.kind === "run"),
    (node) => node.type,
  );
  const listed = [...versionGroups.values(), ...runGroups.values()].flatMap((group) =>
    group.slice(0, impactGroupLimit),
  );
  const summaries = await summarizeNodes(db, listed, { asOf, reader: visibility.reader });
  const listOf = <Node extends VersionNode | RunNode>(group: WalkedNode[]) =>
    group.slice(0, impactGroupLimit).flatMap((node) => (summaries.get(node.id) as Node | undefined) ?? []);
  const versionIds = descendants.filter((node) => node.kind === "version").map((node) => node.id);
  const collections = await collectionsHolding(db, versionIds, visibility.reader);
  return {
    base: base.id,
    versionCount: versionIds.length,
    runCount: descendants.length - versionIds.length,
    artifactTypes: [...versionGroups].map(([type, group]) => ({
      type,
      count: group.length,
      versions: listOf<VersionNode>(group),
    })),
    jobTypes: [...runGroups].map(([jobType, group]) => ({
      jobType,
      count: group.length,
      runs: listOf<RunNode>(group),
    })),
    collections: await Promise.all(
      collections.map(async ({ registry, collection, versionIds: held }) => {
        const members = held.map((id) => graph.nodes.get(id)).filter((node): node is WalkedNode => node !== undefined);
        const shown = await summarizeNodes(db, members.slice(0, impactGroupLimit), { asOf, reader: visibility.reader });
        return {
          registry,
          collection,
          count: members.length,
          versions: [...shown.values()].filter((node): node is VersionNode => node.kind === "version"),
        };
      }),
    ),
  };
}

/** Groups in order of size, largest first, then by key; members by depth, then label. */
function groupBy(nodes: WalkedNode[], keyOf: (node: WalkedNode) => string): Map<string, WalkedNode[]> {
  const groups = new Map<string, WalkedNode[]>();
  for (const node of nodes) {
    const group = groups.get(keyOf(node));
    if (group) group.push(node);
    else groups.set(keyOf(node), [node]);
  }
  for (const group of groups.values())
    group.sort((a, b) => a.depth - b.depth || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  return new Map([...groups].sort(([a, x], [b, y]) => y.length - x.length || (a < b ? -1 : 1)));
}

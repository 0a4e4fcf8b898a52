/**
 * The shortest chain of runs and versions between two nodes: a breadth-first search from both ends, one
 * set-based query per hop layer, always growing the smaller frontier. Tried older → newer both ways round.
 */
import { Limits, type LineageEdge, type LineagePath, type LineagePathQuery } from "@pedigree/protocol";
import type { z } from "zod";
import type { Db } from "../db/client";
import { resolveBaseNode } from "./base";
import { summarizeNodes } from "./summaries";
import { type ProjectVisibility, unseenNodes } from "./visibility";
import { stepLayer, type WalkedKind, type WalkedNode } from "./walk";

export async function getLineagePath(
  db: Db,
  project: string,
  query: z.output<typeof LineagePathQuery>,
  visibility: ProjectVisibility,
): Promise<LineagePath> {
  const asOf = query.asOf ? new Date(query.asOf) : undefined;
  const from = await resolveBaseNode(
    db,
    project,
    { node: query.from, namespace: query.fromNamespace, name: query.fromName },
    { reader: visibility.reader, asOf, field: "from" },
  );
  const to = await resolveBaseNode(
    db,
    project,
    { node: query.to, namespace: query.toNamespace, name: query.toName },
    { reader: visibility.reader, asOf, field: "to" },
  );
  const chain = (await shortestChain(db, from, to, asOf)) ?? (await shortestChain(db, to, from, asOf));
  // A chain through a project the reader cannot see is no chain for that reader. Its ends were resolved for
  // the reader (in the project, or through a registry it reads), so they do not hide it.
  const inner = chain ? chain.filter((node) => node.id !== from.id && node.id !== to.id) : [];
  const hidden = await unseenNodes(
    db,
    inner.map((node) => node.id),
    project,
    visibility,
  );
  if (!chain || hidden.size > 0) return { from: from.id, to: to.id, nodes: null, edges: [] };
  const nodes = chain.map((node, index) => ({ ...node, depth: index }));
  const summaries = await summarizeNodes(db, nodes, { asOf, reader: visibility.reader });
  const edges: LineageEdge[] = nodes.slice(1).map((node, index) => {
    const source = nodes[index] as WalkedNode;
    return { source: source.id, target: node.id, kind: source.kind === "version" ? "input" : "output" };
  });
  return { from: from.id, to: to.id, nodes: nodes.flatMap((node) => summaries.get(node.id) ?? []), edges };
}

interface Reached {
  parent: string | null;
  kind: WalkedKind;
  hops: number;
}

/** Nodes from `older` forward in time to `newer`, or null when `newer` does not descend from `older`. */
async function shortestChain(
  db: Db,
  older: WalkedNode,
  newer: WalkedNode,
  asOf: Date | undefined,
): Promise<WalkedNode[] | null> {
  if (older.id === newer.id) return [older];
  const forward = new Map<string, Reached>([[older.id, { parent: null, kind: older.kind, hops: 0 }]]);
  const backward = new Map<string, Reached>([[newer.id, { parent: null, kind: newer.kind, hops: 0 }]]);
  let forwardFrontier = [{ id: older.id, kind: older.kind }];
  let backwardFrontier = [{ id: newer.id, kind: newer.kind }];
  for (let layer = 0; layer < 2 * Limits.maxHops; layer++) {
    if (forwardFrontier.length === 0 || backwardFrontier.length === 0) return null;
    const growForward = forwardFrontier.length <= backwardFrontier.length;
    const [reached, other, frontier] = growForward
      ? [forward, backward, forwardFrontier]
      : [backward, forward, backwardFrontier];
    const rows = await stepLayer(db, frontier, growForward ? "downstream" : "upstream", asOf);
    const next: { id: string; kind: WalkedKind }[] = [];
    let meeting: string | undefined;
    for (const row of rows) {
      if (reached.has(row.to)) continue;
      const hops = (reached.get(row.from)?.hops ?? 0) + 1;
      reached.set(row.to, { parent: row.from, kind: row.kind, hops });
      next.push({ id: row.to, kind: row.kind });
      const across = other.get(row.to);
      if (across && (!meeting || across.hops < (other.get(meeting) as Reached).hops)) meeting = row.to;
    }
    if (meeting) return [...chainTo(forward, meeting).reverse(), ...chainTo(backward, meeting).slice(1)];
    if (growForward) forwardFrontier = next;
    else backwardFrontier = next;
  }
  return null;
}

/** From `id` back to the search's start, following parents. */
function chainTo(reached: Map<string, Reached>, id: string): WalkedNode[] {
  const chain: WalkedNode[] = [];
  for (let current: string | null = id; current !== null; ) {
    const step = reached.get(current) as Reached;
    chain.push({ id: current, kind: step.kind, depth: 0, type: "", label: "", generated: false });
    current = step.parent;
  }
  return chain;
}

/**
 * Graph summaries of shown nodes, both kinds in one query, with aliases and registry links as they stood at
 * `asOf`. Registry links are those of registries `reader` can read (`registryReadableBy`): a registry it
 * cannot read is never named.
 */
import type { RunNode, VersionNode } from "@pedigree/protocol";
import { type SQL, sql } from "drizzle-orm";
import { registryReadableBy } from "../auth/access";
import { type Db, selectRows } from "../db/client";
import { registries } from "../db/schema";
import type { WalkedNode } from "./walk";
import { idList } from "./walk-sql";

/** A node is a tombstone from its deletion on: at `asOf` before it, it is shown live. */
type Deleted = { deletedAt: string | null; deletedBy: string | null; isDeleted: boolean };
type VersionSummaryRow = Omit<
  VersionNode,
  "depth" | "extended" | "kind" | "version" | "deleted" | "deletion" | "openlineage" | "registryLinks"
> &
  Deleted & {
    index: number;
    openlineage: VersionNode["openlineage"] | null;
    registryLinks: NonNullable<VersionNode["registryLinks"]>;
  };
type RunSummaryRow = Omit<RunNode, "depth" | "extended" | "kind" | "deleted" | "deletion" | "openlineage"> &
  Deleted & { openlineage: RunNode["openlineage"] | null };

/**
 * A history row (in force from column `from` until column `until`, null while it holds) as it stood at `asOf`, or
 * now when there is no `asOf`.
 */
function inForce(from: string, until: string, asOf: Date | undefined): SQL {
  const [start, end] = [sql.raw(from), sql.raw(until)];
  if (!asOf) return sql`${end} is null`;
  const at = sql`${asOf.toISOString()}::timestamptz`;
  return sql`${start} <= ${at} and (${end} is null or ${end} > ${at})`;
}

const isoTime = (column: string) => sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

export interface SummaryOptions {
  asOf: Date | undefined;
  /** The reader's user id: registry links are listed for the registries it can read. */
  reader: string;
}

export async function summarizeNodes(
  db: Db,
  nodes: WalkedNode[],
  { asOf, reader }: SummaryOptions,
): Promise<Map<string, VersionNode | RunNode>> {
  const versionIds = nodes.filter((node) => node.kind === "version").map((node) => node.id);
  const runIds = nodes.filter((node) => node.kind === "run").map((node) => node.id);
  const at = asOf ? sql`${asOf.toISOString()}::timestamptz` : sql`now()`;
  const held = inForce("al.assigned_at", "al.removed_at", asOf);
  const committedBy = sql`and ${inForce("newer.committed_at", "newer.deleted_at", asOf)}`;
  // Both kinds in one query (one round trip): each row one JSON object of its kind.
  const parts = [];
  if (versionIds.length > 0)
    parts.push(sql`
      select 'version' as kind, json_build_object('id', v.id, 'artifact', a.name, 'type', a.type, 'index', v.index,
        'digest', v.digest, 'size', v.size::float8, 'generated', v.generated, 'createdAt', ${isoTime("v.created_at")},
        'deletedAt', ${isoTime("v.deleted_at")}, 'deletedBy', v.deleted_by,
        'isDeleted', coalesce(v.deleted_at <= ${at}, false),
        'latest', (v.deleted_at is null or v.deleted_at > ${at}) and not exists (select 1 from versions newer
          where newer.artifact_id = v.artifact_id and newer.state = 'committed' and newer.index > v.index ${committedBy}),
        'aliases', coalesce((select array_agg(al.alias order by al.alias) from aliases al
          where al.version_id = v.id and ${held}), '{}'),
        'openlineage', case when od.artifact_id is null then null
          else json_build_object('namespace', od.namespace, 'name', od.name) end,
        'registryLinks', ${registryLinksOf(asOf, reader)}) as summary
      from versions v join artifacts a on a.id = v.artifact_id
        left join openlineage_datasets od on od.artifact_id = v.artifact_id
      where v.id = any(${idList(versionIds)})`);
  if (runIds.length > 0)
    parts.push(sql`
      select 'run' as kind, json_build_object('id', r.id, 'name', r.name, 'jobType', r.job_type, 'state', r.state,
        'startedAt', ${isoTime("r.started_at")}, 'finishedAt', ${isoTime("r.finished_at")},
        'deletedAt', ${isoTime("r.deleted_at")}, 'deletedBy', r.deleted_by,
        'isDeleted', coalesce(r.deleted_at <= ${at}, false),
        'openlineage', case when orun.run_id is null then null else json_build_object('namespace', orun.job_namespace,
          'name', orun.job_name, 'runId', orun.openlineage_run_id) end) as summary
      from runs r left join openlineage_runs orun on orun.run_id = r.id where r.id = any(${idList(runIds)})`);
  const rows =
    parts.length === 0
      ? []
      : await selectRows<
          | { kind: "version"; summary: VersionSummaryRow & { latest: boolean } }
          | { kind: "run"; summary: RunSummaryRow }
        >(db, sql.join(parts, sql` union all `));
  const versionRows = rows.flatMap((row) => (row.kind === "version" ? [row.summary] : []));
  const runRows = rows.flatMap((row) => (row.kind === "run" ? [row.summary] : []));
  const depthOf = new Map(nodes.map((node) => [node.id, node]));
  const summaries = new Map<string, VersionNode | RunNode>();
  for (const { index, latest, openlineage, registryLinks, deletedAt, deletedBy, isDeleted, ...row } of versionRows) {
    const node = depthOf.get(row.id) as WalkedNode;
    summaries.set(row.id, {
      ...row,
      ...(openlineage ? { openlineage } : {}),
      ...(registryLinks.length > 0 ? { registryLinks } : {}),
      ...tombstone({ deletedAt, deletedBy, isDeleted }),
      kind: "version",
      version: `v${index}`,
      aliases: latest ? ["latest", ...row.aliases] : row.aliases,
      depth: node.depth,
      ...(node.extended ? { extended: true } : {}),
    });
  }
  for (const { openlineage, deletedAt, deletedBy, isDeleted, ...row } of runRows) {
    const node = depthOf.get(row.id) as WalkedNode;
    summaries.set(row.id, {
      ...row,
      ...(openlineage ? { openlineage } : {}),
      ...tombstone({ deletedAt, deletedBy, isDeleted }),
      kind: "run",
      depth: node.depth,
      ...(node.extended ? { extended: true } : {}),
    });
  }
  return summaries;
}

/**
 * A JSON array (a column of the version summary over `v`) of the collections holding `v` at `at`, in registries
 * `reader` can read: the collection's `vN` and the aliases held then, `latest` first where `v` was the newest
 * version linked. Membership and alias rows keep their history (linked/unlinked, assigned/removed), so `asOf`
 * reads them as they stood.
 */
function registryLinksOf(asOf: Date | undefined, reader: string): SQL {
  const linked = (membership: string) => inForce(`${membership}.linked_at`, `${membership}.unlinked_at`, asOf);
  const held = inForce("ca.assigned_at", "ca.removed_at", asOf);
  return sql`coalesce((select json_agg(json_build_object('registry', ${registries.name}, 'collection', c.name,
      'version', 'v' || m.index,
      'aliases', case when m.index = (select max(newer.index) from collection_memberships newer
          where newer.collection_id = m.collection_id and ${linked("newer")})
        then array['latest'] else '{}'::text[] end
        || array(select ca.alias from collection_aliases ca where ca.membership_id = m.id and ${held} order by ca.alias))
      order by ${registries.name}, c.name)
    from collection_memberships m join collections c on c.id = m.collection_id
      join ${registries} on ${registries.id} = c.registry_id
    where m.version_id = v.id and ${linked("m")} and ${registryReadableBy(reader)}), '[]'::json)`;
}

function tombstone({ deletedAt, deletedBy, isDeleted }: Deleted): Pick<VersionNode, "deleted" | "deletion"> {
  if (!isDeleted || deletedAt === null) return {};
  return { deleted: true, deletion: { reason: deletedBy ? "deleted" : "expired", by: deletedBy, at: deletedAt } };
}

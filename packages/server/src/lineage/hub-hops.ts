/**
 * The hub's hops, answered from indexes alone. A hop from one version to its consumers, and the next hop from
 * those consumers (grouped, never fetched) to what they logged, are the two layers a hub dataset used by
 * 100,000 runs makes large. Both are counted by type straight from an index range: the consumers from
 * `run_inputs (version_id, run_job_type, run_id)`, what they logged from `lineage_hops` (the two-hop paths
 * version → run → version kept on write), with no probe per consumer. Each query answers the same rows as the
 * walk's general hop query (`walk.ts`) would for that layer when it is over the cap, and falls through to that
 * query, inside the same statement, when it is not.
 *
 * A reader who does not see every project gets a layer grouped only when every node of the range is in a
 * project it sees (the ends' projects are kept beside the edges: checked from the same index range); else the
 * general query fetches the layer, and the nodes it may not see are left out after the walk (visibility.ts).
 *
 * These shortcuts are exact only where the general query's members are the whole index range:
 * - consumers: one fetched version in the frontier and no run seen yet on this side (no member to leave out);
 * - what they logged: the frontier is one group made by the first shortcut (its members are every consumer of
 *   that version with that job type); versions seen already are left out by probing the range for them.
 */
import { type SQL, sql } from "drizzle-orm";
import { FIRST_MEMBERS } from "./clusters";
import { asOfCondition, labelOf } from "./walk-sql";
import type { WalkedNode } from "./walked-graph";

/** Where a group of consumers came from: every consumer of `from` with the group's job type. */
export interface ConsumersOf {
  from: string;
  jobType: string;
}

/** Rows of a project the reader cannot see (`visible`: the projects it sees; undefined: it sees all). */
const hiddenCount = (project: SQL, visible: SQL | undefined) =>
  visible ? sql`count(*) filter (where ${project} is null or not (${project} = any(${visible})))::int` : sql`0`;

/** Options of both shortcuts: the cap, the projects the reader sees (undefined: all), the general query. */
export interface ShortcutOptions {
  asOf: Date | undefined;
  cap: number;
  visible: SQL | undefined;
  otherwise: SQL;
}

/**
 * The consumers of `from` over the cap: one group per job type (count, parent edge, first members by id), or
 * `otherwise` (the general query) when the layer fits.
 */
export function consumersHop(dir: SQL, from: string, options: ShortcutOptions): SQL {
  const { asOf, cap, visible, otherwise } = options;
  const at = asOfCondition(sql`e.created_at`, asOf);
  const run = labelOf("run", "m.run_id");
  return sql`
    with counts as (
      select e.run_job_type as type, count(*)::int as total, ${hiddenCount(sql`e.run_project`, visible)} as hidden
      from run_inputs e where e.version_id = ${from} ${at} group by e.run_job_type
    ),
    size as (
      select coalesce(sum(total), 0)::int > ${cap} and coalesce(sum(hidden), 0) = 0 as grouped from counts
    )
    select ${dir} as dir, 'group'::text as what, null::text as src, null::text as dst, c.type, false as generated,
      null::text as label, null::boolean as fresh, c.total
    from counts c where (select grouped from size)
    union all
    select ${dir}, 'parent', ${from}::text, null, c.type, false, null, null, null
    from counts c where (select grouped from size)
    union all
    select ${dir}, 'first', null, m.run_id, c.type, false, ${run.label}, null, null
    from counts c cross join lateral (
      select e.run_id from run_inputs e where e.version_id = ${from} and e.run_job_type = c.type ${at}
      order by e.run_id limit ${FIRST_MEMBERS}
    ) m ${run.join}
    where (select grouped from size)
    union all
    select * from (${otherwise}) general where not (select grouped from size)`;
}

/**
 * What the consumers of one group logged, over the cap: one group per artifact type and generated flag, the
 * edges to versions seen already, or `otherwise` when the layer fits. `seen` is the versions seen on this side.
 */
export function loggedByConsumersHop(
  dir: SQL,
  group: WalkedNode,
  origin: ConsumersOf,
  seen: SQL,
  options: ShortcutOptions,
): SQL {
  const { asOf, cap, visible, otherwise } = options;
  const range = sql`h.from_version_id = ${origin.from} and h.run_job_type = ${origin.jobType}
    ${asOfCondition(sql`h.reached_at`, asOf)}`;
  const version = labelOf("version", "m.to_version_id");
  return sql`
    with counts as (
      select h.to_type as type, h.to_generated as generated, count(*)::int as total,
        ${hiddenCount(sql`h.to_project`, visible)} as hidden
      from lineage_hops h where ${range} group by h.to_type, h.to_generated
    ),
    seen_hit as (
      select h.to_version_id as dst, h.to_type as type, h.to_generated as generated from lineage_hops h
      where ${range} and h.to_version_id = any(${seen})
    ),
    fresh_counts as (
      select c.type, c.generated,
        c.total - (select count(*) from seen_hit s where s.type = c.type and s.generated = c.generated)::int as total
      from counts c
    ),
    size as (
      select coalesce(sum(total), 0)::int > ${cap} and (select coalesce(sum(hidden), 0) from counts) = 0 as grouped
      from fresh_counts
    )
    select ${dir} as dir, 'edge'::text as what, ${group.id}::text as src, s.dst, s.type, s.generated,
      null::text as label, false as fresh, null::int as total
    from seen_hit s where (select grouped from size)
    union all
    select ${dir}, 'group', null, null, c.type, c.generated, null, null, c.total
    from fresh_counts c where c.total > 0 and (select grouped from size)
    union all
    select ${dir}, 'parent', ${group.id}::text, null, c.type, c.generated, null, null, null
    from fresh_counts c where c.total > 0 and (select grouped from size)
    union all
    select ${dir}, 'first', null, m.to_version_id, c.type, c.generated, ${version.label}, null, null
    from fresh_counts c cross join lateral (
      select h.to_version_id from lineage_hops h
      where ${range} and h.to_type = c.type and h.to_generated = c.generated
        and not (h.to_version_id = any(${seen}))
      order by h.to_version_id limit ${FIRST_MEMBERS}
    ) m ${version.join}
    where c.total > 0 and (select grouped from size)
    union all
    select * from (${otherwise}) general where not (select grouped from size)`;
}

/** `select id`: the members of a group of what the consumers of `origin` logged, of one type, not seen. */
export function loggedByConsumersMembers(
  origin: ConsumersOf,
  type: string,
  generated: boolean,
  seen: SQL,
  asOf: Date | undefined,
): SQL {
  return sql`select h.to_version_id as id from lineage_hops h
    where h.from_version_id = ${origin.from} and h.run_job_type = ${origin.jobType}
      ${asOfCondition(sql`h.reached_at`, asOf)} and h.to_type = ${type} and h.to_generated = ${generated}
      and not (h.to_version_id = any(${seen}))`;
}

import { createHash } from "node:crypto";
import {
  encodeHistoryCursor,
  type HistoryAction,
  type HistoryCheckpoint,
  type HistoryEvent,
  type HistoryPage,
  type HistoryQuery,
  type HistoryStateDifference,
  type HistoryVerification,
  versionNumberOf,
} from "@pedigree/protocol";
import { and, asc, desc, eq, getTableName, gte, inArray, isNull, lte, or, sql } from "drizzle-orm";
import { type Db, selectRows } from "../db/client";
import { collectionAliases, collectionMemberships, collections, GENESIS_HASH, historyEvents } from "../db/schema";
import type { RegistryContext } from "./context";

/** The next id of the history events' serial column (drawn before the insert: the hash covers it). */
const nextEventId = sql`select nextval(pg_get_serial_sequence(${getTableName(historyEvents)}, ${historyEvents.id.name}))::text as id`;

/**
 * The action history of a collection: appending (inside the transaction that made the change, after the
 * collection row is locked), listing newest first with a keyset cursor, and verifying it (the hash chain,
 * the replayed state, a client's checkpoint).
 * Nothing here ever updates or deletes an event; the database refuses it anyway.
 */

type EventRow = typeof historyEvents.$inferSelect;
export type CollectionRow = typeof collections.$inferSelect;

/** The artifact version an event is about. */
export interface EventSource {
  versionId: string;
  project: string;
  /** `artifact:vN`. */
  label: string;
}

export interface EventInput {
  action: HistoryAction;
  /** N of the collection's `vN`. */
  collectionVersion?: number | null;
  source?: EventSource | null;
  alias?: string | null;
  details?: Record<string, unknown> | null;
}

interface ChainNames {
  registry: string;
  collection: string;
}

/**
 * Appends one event to the collection's chain. The caller holds the collection row lock (FOR UPDATE), so
 * `seq` and `prevHash` are read and advanced without a race; the event commits or rolls back with the change.
 */
export async function appendHistoryEvent(
  tx: Db,
  ctx: RegistryContext,
  names: ChainNames & { collectionId: number },
  input: EventInput,
): Promise<HistoryEvent> {
  const [head] = await tx
    .select({ eventCount: collections.eventCount, headHash: collections.headHash })
    .from(collections)
    .where(eq(collections.id, names.collectionId));
  if (!head) throw new Error(`collection ${names.collectionId} vanished inside its transaction`);
  const [next] = await selectRows<{ id: string }>(tx, nextEventId);
  if (!next) throw new Error("the sequence of history event ids gave no value");
  const row: EventRow = {
    id: Number(next.id),
    collectionId: names.collectionId,
    seq: head.eventCount + 1,
    action: input.action,
    actorId: ctx.actor.userId,
    actorName: ctx.actor.userName,
    at: ctx.now(),
    collectionVersion: input.collectionVersion ?? null,
    sourceVersionId: input.source?.versionId ?? null,
    sourceVersion: input.source?.label ?? null,
    sourceProject: input.source?.project ?? null,
    alias: input.alias ?? null,
    details: input.details ?? null,
    prevHash: head.headHash,
    hash: "",
  };
  row.hash = eventHash(toUnhashedEvent(row, names));
  await tx.insert(historyEvents).values(row);
  await tx
    .update(collections)
    .set({ eventCount: row.seq, headHash: row.hash })
    .where(eq(collections.id, names.collectionId));
  return toHistoryEvent(row, names);
}

/** Newest first, ordered by (at desc, id desc); the cursor is the last event's (at, id). */
export async function listHistory(
  db: Db,
  names: ChainNames & { collectionId: number },
  query: HistoryQuery,
): Promise<HistoryPage> {
  const { cursor } = query;
  const version = query.version ? versionNumberOf(query.version) : undefined;
  const rows = await db
    .select()
    .from(historyEvents)
    .where(
      and(
        eq(historyEvents.collectionId, names.collectionId),
        query.action ? inArray(historyEvents.action, query.action) : undefined,
        query.actor
          ? or(
              eq(sql`lower(${historyEvents.actorName})`, query.actor.toLowerCase()),
              eq(historyEvents.actorId, query.actor),
            )
          : undefined,
        version !== undefined ? eq(historyEvents.collectionVersion, version) : undefined,
        query.from ? gte(historyEvents.at, new Date(query.from)) : undefined,
        query.to ? lte(historyEvents.at, new Date(query.to)) : undefined,
        cursor
          ? sql`(${historyEvents.at}, ${historyEvents.id}) < (${cursor.at.toISOString()}::timestamptz, ${cursor.id})`
          : undefined,
      ),
    )
    .orderBy(desc(historyEvents.at), desc(historyEvents.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    events: page.map((row) => toHistoryEvent(row, names)),
    nextCursor: rows.length > query.limit && last ? encodeHistoryCursor(last) : null,
  };
}

/**
 * Verifies a collection's history three ways. The hash chain: recomputed in `seq` order, in batches, naming
 * the first event that does not fit (a changed row, a missing or reordered one, events missing from the end
 * the collection's recorded head knows of). The state: the events are replayed and compared with the
 * collection's current links, aliases and fields, naming each row changed behind the server's back. A
 * checkpoint `{ seq, hash }` a client kept, when given: the intact chain must still hold that event with that
 * hash, so a cut tail or a rewritten past is caught even when the collection's head was rewritten to match.
 * Call it in one repeatable-read transaction, so the chain and the state are read as of the same instant.
 */
export async function verifyHistory(
  db: Db,
  names: ChainNames,
  collection: CollectionRow,
  since?: HistoryCheckpoint,
): Promise<HistoryVerification> {
  let firstBroken: HistoryVerification["firstBroken"] = null;
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let hashAtSince: string | undefined;
  const replay = new CollectionReplay();
  const batchSize = 5000;
  for (;;) {
    const rows = await db
      .select()
      .from(historyEvents)
      .where(
        and(
          eq(historyEvents.collectionId, collection.id),
          gte(historyEvents.seq, expectedSeq),
          lte(historyEvents.seq, collection.eventCount),
        ),
      )
      .orderBy(asc(historyEvents.seq))
      .limit(batchSize);
    for (const row of rows) {
      // Replayed as stored, past a break too: the differences then say what the rows claim.
      replay.apply(row);
      if (!firstBroken) {
        const broken = (reason: string) => ({ id: String(row.id), seq: row.seq, reason });
        if (row.seq !== expectedSeq) {
          firstBroken = { id: String(row.id), seq: expectedSeq, reason: `event ${expectedSeq} is missing` };
        } else if (row.prevHash !== prevHash) {
          firstBroken = broken("prevHash does not match the previous event's hash");
        } else if (eventHash(toUnhashedEvent(row, names)) !== row.hash) {
          firstBroken = broken("hash does not match the event's content");
        } else if (row.seq === since?.seq) {
          hashAtSince = row.hash;
        }
      }
      prevHash = row.hash;
      expectedSeq = row.seq + 1;
    }
    if (rows.length < batchSize) break;
  }
  if (!firstBroken && expectedSeq <= collection.eventCount) {
    firstBroken = { id: null, seq: expectedSeq, reason: `event ${expectedSeq} is missing` };
  }
  if (!firstBroken && prevHash !== collection.headHash) {
    firstBroken = {
      id: null,
      seq: collection.eventCount,
      reason: "the chain does not end at the collection's head hash",
    };
  }
  const stateDifferences = replay.compare(collection, await currentState(db, collection.id));
  const checkpoint = since ? checkpointVerdict(since, hashAtSince, firstBroken, collection.eventCount) : null;
  return {
    registry: names.registry,
    collection: names.collection,
    ok: firstBroken === null && stateDifferences.length === 0 && (checkpoint?.inChain ?? true),
    eventCount: collection.eventCount,
    headHash: collection.headHash,
    head: { seq: collection.eventCount, hash: collection.headHash },
    firstBroken,
    stateDifferences,
    since: checkpoint,
  };
}

function checkpointVerdict(
  since: HistoryCheckpoint,
  hashAtSince: string | undefined,
  firstBroken: HistoryVerification["firstBroken"],
  eventCount: number,
): NonNullable<HistoryVerification["since"]> {
  const verdict = (reason: string | null) => ({ ...since, inChain: reason === null, reason });
  if (firstBroken && firstBroken.seq <= since.seq) {
    return verdict(`the chain is broken at event ${firstBroken.seq}, at or before the checkpoint`);
  }
  if (since.seq > eventCount) {
    return verdict(`the chain ends at event ${eventCount}: event ${since.seq} of the checkpoint was cut off`);
  }
  if (hashAtSince !== since.hash) {
    return verdict(`event ${since.seq} has another hash than the checkpoint: the history up to it was rewritten`);
  }
  return verdict(null);
}

interface CurrentState {
  /** Every membership row, linked or not. */
  memberships: { index: number; versionId: string; linked: boolean }[];
  /** Held aliases and the `vN` holding each. */
  aliases: { alias: string; index: number }[];
}

async function currentState(db: Db, collectionId: number): Promise<CurrentState> {
  const memberships = await db
    .select({
      index: collectionMemberships.index,
      versionId: collectionMemberships.versionId,
      linked: sql<boolean>`${collectionMemberships.unlinkedAt} is null`,
    })
    .from(collectionMemberships)
    .where(eq(collectionMemberships.collectionId, collectionId));
  const aliases = await db
    .select({ alias: collectionAliases.alias, index: collectionMemberships.index })
    .from(collectionAliases)
    .innerJoin(collectionMemberships, eq(collectionMemberships.id, collectionAliases.membershipId))
    .where(and(eq(collectionAliases.collectionId, collectionId), isNull(collectionAliases.removedAt)));
  return { memberships, aliases };
}

/** The collection as its events say it is: replayed one event at a time, compared with the rows at the end. */
class CollectionReplay {
  private type: string | null = null;
  private description: string | null = null;
  private tags: string[] | null = null;
  /** `vN` → the version linked there, and whether it still is. */
  private readonly links = new Map<number, { versionId: string | null; linked: boolean }>();
  private readonly aliases = new Map<string, number>();
  /** One past the highest `vN` ever linked: what the collection's `versionCount` must be. */
  private versionCount = 0;

  apply(row: EventRow): void {
    const details = row.details ?? {};
    const index = row.collectionVersion;
    switch (row.action as HistoryAction) {
      case "collection_created":
        this.type = typeof details.type === "string" ? details.type : null;
        this.description = typeof details.description === "string" ? details.description : null;
        this.tags = Array.isArray(details.tags) ? details.tags.map(String) : null;
        break;
      case "version_linked":
        if (index !== null) {
          this.links.set(index, { versionId: row.sourceVersionId, linked: true });
          this.versionCount = Math.max(this.versionCount, index + 1);
        }
        break;
      case "version_unlinked":
        if (index !== null) this.links.set(index, { versionId: row.sourceVersionId, linked: false });
        break;
      case "alias_added":
        if (row.alias !== null && index !== null) this.aliases.set(row.alias, index);
        break;
      case "alias_removed":
        if (row.alias !== null) this.aliases.delete(row.alias);
        break;
      case "tags_changed":
        this.tags = Array.isArray(details.after) ? details.after.map(String) : null;
        break;
      case "description_changed":
        this.description = typeof details.after === "string" ? details.after : null;
        break;
    }
  }

  compare(collection: CollectionRow, current: CurrentState): HistoryStateDifference[] {
    const differences: HistoryStateDifference[] = [];
    const differ = (
      kind: HistoryStateDifference["kind"],
      name: string | null,
      history: string | null,
      now: string | null,
      message: () => string,
    ) => {
      if (history !== now) differences.push({ kind, name, history, current: now, message: message() });
    };
    differ("type", null, this.type, collection.type, () => "the collection's type is not the one it was created with");
    differ(
      "description",
      null,
      this.description,
      collection.description,
      () => "the description differs from its events",
    );
    differ("tags", null, tagsText(this.tags), tagsText(collection.tags), () => "the tags differ from their events");

    const linkText = (link: { versionId: string | null; linked: boolean } | undefined) =>
      link ? `${link.linked ? "linked" : "unlinked"} ${link.versionId}` : null;
    const rows = new Map(current.memberships.map((row) => [row.index, row]));
    const indexes = [...new Set([...this.links.keys(), ...rows.keys()])].sort((a, b) => a - b);
    for (const index of indexes) {
      const history = linkText(this.links.get(index));
      const now = linkText(rows.get(index));
      differ(
        "link",
        `v${index}`,
        history,
        now,
        () => `v${index}: the history says ${history ?? "never linked"}, the collection has ${now ?? "no such link"}`,
      );
    }
    differ(
      "versionCount",
      null,
      String(this.versionCount),
      String(collection.versionCount),
      () => "the collection's version count differs from its links",
    );

    const held = new Map(current.aliases.map((row) => [row.alias, row.index]));
    const aliases = [...new Set([...this.aliases.keys(), ...held.keys()])].sort();
    for (const alias of aliases) {
      const history = this.aliases.has(alias) ? `v${this.aliases.get(alias)}` : null;
      const now = held.has(alias) ? `v${held.get(alias)}` : null;
      differ(
        "alias",
        alias,
        history,
        now,
        () =>
          `alias '${alias}': the history puts it on ${history ?? "no version"}, the collection on ${now ?? "no version"}`,
      );
    }
    return differences;
  }
}

const tagsText = (tags: string[] | null) => (tags === null ? null : JSON.stringify([...tags].sort()));

export function toHistoryEvent(row: EventRow, names: ChainNames): HistoryEvent {
  return { ...toUnhashedEvent(row, names), hash: row.hash };
}

function toUnhashedEvent(row: EventRow, names: ChainNames): Omit<HistoryEvent, "hash"> {
  return {
    id: String(row.id),
    seq: row.seq,
    registry: names.registry,
    collection: names.collection,
    action: row.action as HistoryAction,
    actor: row.actorName,
    actorId: row.actorId,
    at: row.at.toISOString(),
    version: row.collectionVersion === null ? null : `v${row.collectionVersion}`,
    sourceVersion: row.sourceVersion,
    sourceProject: row.sourceProject,
    sourceVersionId: row.sourceVersionId,
    alias: row.alias,
    details: row.details,
    prevHash: row.prevHash,
  };
}

/** sha256(prevHash ‖ canonical JSON of the event without its hash and prevHash). */
export function eventHash(event: Omit<HistoryEvent, "hash">): string {
  const { prevHash, ...content } = event;
  return createHash("sha256")
    .update(prevHash + canonicalJson(content))
    .digest("hex");
}

/**
 * JSON with object keys sorted (by UTF-16 code units) at every depth and undefined members left out, so the
 * same event always hashes the same. Written as plain loops: verification runs it once per event.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) {
    let out = "[";
    for (let index = 0; index < value.length; index++) out += (index ? "," : "") + canonicalJson(value[index]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = "{";
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue;
    out += `${out.length > 1 ? "," : ""}${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

/** The cursor that continues a listing after the event (at, id): for tools that seek deep into a history. */
export const historyCursorAfter = (event: { at: Date; id: number }) => encodeHistoryCursor(event);

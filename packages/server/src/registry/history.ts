import { createHash } from "node:crypto";
import {
  encodeHistoryCursor,
  type HistoryAction,
  type HistoryEvent,
  type HistoryPage,
  type HistoryQuery,
  type HistoryVerification,
  versionNumberOf,
} from "@pedigree/protocol";
import { and, asc, desc, eq, gte, inArray, lte, or, sql } from "drizzle-orm";
import { type Db, selectRows } from "../db/client";
import { collections, GENESIS_HASH, historyEvents } from "../db/schema";
import type { RegistryContext } from "./context";

/**
 * The action history of a collection: appending (inside the transaction that made the change, after the
 * collection row is locked), listing newest first with a keyset cursor, and verifying the hash chain.
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
  const [next] = await selectRows<{ id: string }>(tx, sql`select nextval('history_events_id_seq')::text as id`);
  if (!next) throw new Error("history_events_id_seq gave no value");
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
        query.actor ? or(eq(historyEvents.actorName, query.actor), eq(historyEvents.actorId, query.actor)) : undefined,
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
 * Recomputes the chain in `seq` order, in batches, and names the first event that does not fit: a changed
 * row (its hash no longer matches), a missing or reordered one (seq or prevHash off), or events missing
 * from the end (the collection's recorded head says there were more).
 */
export async function verifyHistory(
  db: Db,
  names: ChainNames & { collectionId: number; eventCount: number; headHash: string },
): Promise<HistoryVerification> {
  const result = (firstBroken: HistoryVerification["firstBroken"]): HistoryVerification => ({
    registry: names.registry,
    collection: names.collection,
    ok: firstBroken === null,
    eventCount: names.eventCount,
    headHash: names.headHash,
    firstBroken,
  });
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  const batchSize = 5000;
  for (;;) {
    const rows = await db
      .select()
      .from(historyEvents)
      .where(
        and(
          eq(historyEvents.collectionId, names.collectionId),
          gte(historyEvents.seq, expectedSeq),
          lte(historyEvents.seq, names.eventCount),
        ),
      )
      .orderBy(asc(historyEvents.seq))
      .limit(batchSize);
    for (const row of rows) {
      const broken = (reason: string) => result({ id: String(row.id), seq: row.seq, reason });
      if (row.seq !== expectedSeq) {
        return result({ id: String(row.id), seq: expectedSeq, reason: `event ${expectedSeq} is missing` });
      }
      if (row.prevHash !== prevHash) return broken("prevHash does not match the previous event's hash");
      if (eventHash(toUnhashedEvent(row, names)) !== row.hash) return broken("hash does not match the event's content");
      prevHash = row.hash;
      expectedSeq += 1;
    }
    if (rows.length < batchSize) break;
  }
  if (expectedSeq <= names.eventCount) {
    return result({ id: null, seq: expectedSeq, reason: `event ${expectedSeq} is missing` });
  }
  if (prevHash !== names.headHash) {
    return result({ id: null, seq: names.eventCount, reason: "the chain does not end at the collection's head hash" });
  }
  return result(null);
}

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

/**
 * The OpenLineage outbox: with `PEDIGREE_OPENLINEAGE_URL` set, every run's START and terminal event reaches
 * that consumer at least once. A row is written in the transaction that changes the run (so a change that
 * rolls back sends nothing, and one that commits is never lost); one delivery loop per process sends the
 * rows, built from the run as it stands then (openlineage/export.ts), retrying with backoff. Rows are
 * claimed with `FOR UPDATE SKIP LOCKED` and leased, so several servers on one PostgreSQL share the work and
 * a server killed mid-delivery leaves its rows to be sent again. The loop never runs inside a request, and
 * its timer is unref'd: it neither blocks a request nor keeps the process alive.
 */
import type { EventType } from "@pedigree/protocol";
import { and, asc, eq, inArray, isNull, lte, sql } from "drizzle-orm";
import type { Database, Db } from "../db/client";
import { openlineageOutbox, runs } from "../db/schema";
import { exportRunEvents } from "./export";

type OutboxEventType = Extract<EventType, "START" | "COMPLETE" | "FAIL" | "ABORT">;

const terminalEventOf: Record<string, OutboxEventType> = {
  finished: "COMPLETE",
  failed: "FAIL",
  crashed: "FAIL",
  aborted: "ABORT",
};

/** Queues the event of a run's start or end; the same event of a run is queued once. */
export async function enqueueRunEvent(tx: Db, runId: string, state: "start" | string, at: Date): Promise<void> {
  const eventType = state === "start" ? "START" : terminalEventOf[state];
  if (!eventType) return;
  await tx.insert(openlineageOutbox).values({ runId, eventType, eventTime: at }).onConflictDoNothing();
}

export interface OutboxConfig {
  /** The consumer's base URL; events are POSTed to `<url>/api/v1/lineage` (the OpenLineage HTTP transport's). */
  url: string;
  apiKey?: string | undefined;
  /** How often an idle loop looks for rows. */
  pollMs?: number;
  log?: (line: string) => void;
}

const BATCH = 20;
/** Longer than a delivery may take: a row leased by a server that died is sent again after it. */
const LEASE_MS = 15_000;
const MAX_BACKOFF_MS = 5 * 60_000;
const DELIVERY_TIMEOUT_MS = 10_000;

/** Starts the delivery loop; `stop()` ends it after the round in flight. */
export function startOutboxDelivery(database: Database, config: OutboxConfig): { stop(): Promise<void> } {
  const endpoint = /\/api\/v1\/lineage\/?$/.test(config.url)
    ? config.url
    : `${config.url.replace(/\/+$/, "")}/api/v1/lineage`;
  const pollMs = config.pollMs ?? 500;
  const log = config.log ?? (() => {});
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  // Ends deliveries in flight on stop, so a consumer that never answers cannot hold a shutdown up.
  const stopping = new AbortController();
  let round: Promise<void> = Promise.resolve();

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      round = deliverRound(database, { endpoint, apiKey: config.apiKey, signal: stopping.signal })
        .then((full) => schedule(full ? 0 : pollMs))
        .catch((error: unknown) => {
          log(`openlineage outbox: ${error}`);
          schedule(pollMs);
        });
    }, delayMs);
    timer.unref();
  };
  schedule(0);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      stopping.abort();
      await round.catch(() => {});
    },
  };
}

/** Claims due rows, sends each, records the outcome. Answers whether a whole batch was due (more may be). */
interface Target {
  endpoint: string;
  apiKey: string | undefined;
  signal: AbortSignal;
}

async function deliverRound(database: Database, target: Target): Promise<boolean> {
  const claimed = await database.transaction(async (tx) => {
    const due = await tx
      .select({ id: openlineageOutbox.id })
      .from(openlineageOutbox)
      .where(and(isNull(openlineageOutbox.deliveredAt), lte(openlineageOutbox.nextAttemptAt, sql`now()`)))
      .orderBy(asc(openlineageOutbox.id))
      .limit(BATCH)
      .for("update", { skipLocked: true });
    if (due.length === 0) return [];
    return tx
      .update(openlineageOutbox)
      .set({
        attempts: sql`${openlineageOutbox.attempts} + 1`,
        nextAttemptAt: sql`now() + ${`${LEASE_MS} milliseconds`}::interval`,
      })
      .where(
        inArray(
          openlineageOutbox.id,
          due.map((row) => row.id),
        ),
      )
      .returning();
  });
  // The batch goes out at once: one slow consumer answer does not hold the others.
  await Promise.all(
    claimed.map(async (row) => {
      const outcome = await deliver(database, target, row.runId, row.eventType).catch((error: unknown) => `${error}`);
      await database.transaction((tx) =>
        outcome === null
          ? tx
              .update(openlineageOutbox)
              .set({ deliveredAt: sql`now()`, lastError: null })
              .where(eq(openlineageOutbox.id, row.id))
          : tx
              .update(openlineageOutbox)
              .set({
                lastError: outcome.slice(0, 1000),
                nextAttemptAt: sql`now() + ${`${backoffMs(row.attempts)} milliseconds`}::interval`,
              })
              .where(eq(openlineageOutbox.id, row.id)),
      );
    }),
  );
  return claimed.length === BATCH;
}

/** 1 s, 2 s, 4 s … up to 5 minutes, with jitter so servers restarted together do not retry in step. */
function backoffMs(attempts: number): number {
  const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

/** Sends one event; answers null when the consumer took it, else why not. */
async function deliver(database: Database, target: Target, runId: string, eventType: string): Promise<string | null> {
  const event = await database.read(async (db) => {
    const [run] = await db.select({ project: runs.project }).from(runs).where(eq(runs.id, runId));
    if (!run) return null;
    const events = await exportRunEvents(db, run.project, runId);
    return eventType === "START" ? events[0] : events[events.length - 1];
  });
  if (!event) return null;
  const { endpoint, apiKey, signal } = target;
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify(event),
    signal: AbortSignal.any([signal, AbortSignal.timeout(DELIVERY_TIMEOUT_MS)]),
  });
  await response.body?.cancel();
  return response.ok ? null : `consumer answered ${response.status}`;
}

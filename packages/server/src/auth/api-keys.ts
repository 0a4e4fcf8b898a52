import type { ApiKeySummary, CreatedApiKey } from "@pedigree/protocol";
import { and, desc, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { apiKeys } from "../db/schema";
import { badRequest, notFound } from "../errors";
import type { Actor } from "./actor";
import { generateApiKey, hashApiKey, randomId } from "./keys";

type ApiKeyRow = typeof apiKeys.$inferSelect;

/** Makes a key for `userId`; the key is in this answer only, the database keeps its sha256. */
export async function createApiKey(
  tx: Db,
  input: { userId: string; name: string; expiresAt?: string | undefined; now: Date },
): Promise<CreatedApiKey> {
  const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
  if (expiresAt && expiresAt <= input.now) throw badRequest("expiresAt", "expiresAt must be in the future");
  const apiKey = generateApiKey();
  const [row] = await tx
    .insert(apiKeys)
    .values({ id: `k_${randomId(12)}`, userId: input.userId, name: input.name, keyHash: hashApiKey(apiKey), expiresAt })
    .returning();
  return { key: toApiKeySummary(row as ApiKeyRow), apiKey };
}

export async function listApiKeys(db: Db, userId: string): Promise<ApiKeySummary[]> {
  const rows = await db.select().from(apiKeys).where(eq(apiKeys.userId, userId)).orderBy(desc(apiKeys.createdAt));
  return rows.map(toApiKeySummary);
}

/**
 * Revokes a key of the actor (any key, for a server admin). It is refused from the next request on: keys
 * are looked up on every request, never cached. Revoking twice keeps the first time.
 */
export async function revokeApiKey(tx: Db, actor: Actor, keyId: string, now: Date): Promise<ApiKeySummary> {
  const owned = actor.isAdmin ? eq(apiKeys.id, keyId) : and(eq(apiKeys.id, keyId), eq(apiKeys.userId, actor.userId));
  const [row] = await tx.select().from(apiKeys).where(owned).for("update");
  if (!row) throw notFound(`key '${keyId}'`, "keyId");
  if (row.revokedAt) return toApiKeySummary(row);
  const [revoked] = await tx.update(apiKeys).set({ revokedAt: now }).where(eq(apiKeys.id, keyId)).returning();
  return toApiKeySummary(revoked as ApiKeyRow);
}

export function toApiKeySummary(row: ApiKeyRow): ApiKeySummary {
  return {
    id: row.id,
    name: row.name,
    userId: row.userId,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

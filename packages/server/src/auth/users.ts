import type { CreatedUser, UserSummary } from "@pedigree/protocol";
import { and, asc, eq, gt, isNull, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { apiKeys, users } from "../db/schema";
import { conflict, notFound } from "../errors";
import type { Actor } from "./actor";
import { createApiKey } from "./api-keys";
import { generateApiKey, hashApiKey, randomId } from "./keys";

/** The user behind a key that is neither revoked nor expired, with the key's expiry (null: never), or null. */
export async function authenticate(
  db: Db,
  apiKey: string,
  now: Date,
): Promise<{ actor: Actor; keyExpiresAt: Date | null } | null> {
  const [row] = await db
    .select({
      keyId: apiKeys.id,
      userId: users.id,
      userName: users.name,
      isAdmin: users.isAdmin,
      keyExpiresAt: apiKeys.expiresAt,
    })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .where(
      and(
        eq(apiKeys.keyHash, hashApiKey(apiKey)),
        isNull(apiKeys.revokedAt),
        or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now)),
      ),
    )
    .limit(1);
  if (!row) return null;
  const { keyExpiresAt, ...actor } = row;
  return { actor, keyExpiresAt };
}

export async function createUserWithKey(
  db: Db,
  input: { name: string; isAdmin: boolean; apiKey?: string; keyName?: string },
): Promise<{ userId: string; apiKey: string }> {
  const userId = `u_${randomId(12)}`;
  const apiKey = input.apiKey ?? generateApiKey();
  await db.insert(users).values({ id: userId, name: input.name, isAdmin: input.isAdmin });
  await db.insert(apiKeys).values({
    id: `k_${randomId(12)}`,
    userId,
    name: input.keyName ?? "default",
    keyHash: hashApiKey(apiKey),
  });
  return { userId, apiKey };
}

/**
 * On a database without users, creates the admin and its key. Returns the key (shown once), or null when
 * users already exist. An advisory lock keeps two servers starting together from making two admins.
 */
export async function bootstrapAdmin(db: Db, presetKey: string | undefined): Promise<string | null> {
  await db.execute(sql`select pg_advisory_xact_lock(727001)`);
  const [existing] = await db.select({ id: users.id }).from(users).limit(1);
  if (existing) return null;
  const { apiKey } = await createUserWithKey(db, {
    name: "admin",
    isAdmin: true,
    apiKey: presetKey,
    keyName: "bootstrap",
  });
  return apiKey;
}

/** The user named `name`, whatever its case; 404 naming `user` without one. */
export async function requireUserByName(db: Db, name: string): Promise<{ id: string; name: string }> {
  const [user] = await db
    .select({ id: users.id, name: users.name })
    .from(users)
    .where(eq(sql`lower(${users.name})`, name.toLowerCase()));
  if (!user) throw notFound(`user '${name}'`, "user");
  return user;
}

/** A new user (by a server admin) and its first key, shown once. User names are unique. */
export async function createUser(
  tx: Db,
  input: { name: string; isAdmin: boolean; key: { name: string; expiresAt?: string | undefined } },
  now: Date,
): Promise<CreatedUser> {
  const [user] = await tx
    .insert(users)
    .values({ id: `u_${randomId(12)}`, name: input.name, isAdmin: input.isAdmin })
    .onConflictDoNothing()
    .returning();
  if (!user) throw conflict(`user '${input.name}' exists (names are unique whatever their case)`, "name");
  const { key, apiKey } = await createApiKey(tx, { userId: user.id, ...input.key, now });
  return { user: toUserSummary(user), key, apiKey };
}

export async function listUsers(db: Db): Promise<UserSummary[]> {
  return (await db.select().from(users).orderBy(asc(users.name))).map(toUserSummary);
}

function toUserSummary(user: typeof users.$inferSelect): UserSummary {
  return { id: user.id, name: user.name, isAdmin: user.isAdmin, createdAt: user.createdAt.toISOString() };
}

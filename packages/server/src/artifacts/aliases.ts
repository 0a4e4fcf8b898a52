import { VersionId, type VersionSummary } from "@pedigree/protocol";
import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/client";
import { aliases, artifacts } from "../db/schema";
import { badRequest, notFound } from "../errors";
import type { WriteContext } from "../write-context";
import { loadVersionSummaries } from "./present";
import { resolveRef } from "./refs";

/**
 * Points `alias` of an artifact at `versionId`, taking it from whichever version held it (one alias, one
 * holder). Call inside the transaction that locked the artifact row.
 */
export async function assignAlias(
  tx: Db,
  input: { artifactId: number; alias: string; versionId: string; actor: string; at: Date },
): Promise<"assigned" | "unchanged"> {
  if (input.alias === "latest") throw badRequest("aliases", "'latest' is managed by the server");
  const [held] = await tx
    .select({ versionId: aliases.versionId })
    .from(aliases)
    .where(and(eq(aliases.artifactId, input.artifactId), eq(aliases.alias, input.alias), isNull(aliases.removedAt)));
  if (held?.versionId === input.versionId) return "unchanged";
  if (held) await releaseAlias(tx, input);
  await tx.insert(aliases).values({
    artifactId: input.artifactId,
    alias: input.alias,
    versionId: input.versionId,
    assignedAt: input.at,
    assignedBy: input.actor,
  });
  return "assigned";
}

/** Ends the hold of `alias` (kept as history for `asOf`). Returns whether anything was held. */
export async function releaseAlias(tx: Db, input: { artifactId: number; alias: string; at: Date }): Promise<boolean> {
  const released = await tx
    .update(aliases)
    .set({ removedAt: input.at })
    .where(and(eq(aliases.artifactId, input.artifactId), eq(aliases.alias, input.alias), isNull(aliases.removedAt)))
    .returning({ id: aliases.id });
  return released.length > 0;
}

/** Locks the artifact row for the rest of the transaction: the one lock behind numbering and aliases. */
export async function lockArtifact(tx: Db, artifactId: number) {
  const [artifact] = await tx.select().from(artifacts).where(eq(artifacts.id, artifactId)).for("no key update");
  if (!artifact) throw notFound(`artifact ${artifactId}`);
  return artifact;
}

/** PUT alias: `version` is `vN` or a version id of the artifact `name`. */
export async function setAlias(
  tx: Db,
  ctx: WriteContext,
  input: { name: string; alias: string; version: string },
): Promise<VersionSummary> {
  const ref = VersionId.safeParse(input.version).success ? input.version : `${input.name}:${input.version}`;
  const target = await resolveRef(tx, ctx.project, ref, { reader: ctx.actor, field: "version" });
  if (target.artifact.name !== input.name)
    throw notFound(`version '${input.version}' of artifact '${input.name}'`, "version");
  await lockArtifact(tx, target.artifact.id);
  await assignAlias(tx, {
    artifactId: target.artifact.id,
    alias: input.alias,
    versionId: target.version.id,
    actor: ctx.actor,
    at: ctx.now(),
  });
  const [summary] = await loadVersionSummaries(tx, [target.version.id]);
  return summary as VersionSummary;
}

export async function removeAlias(tx: Db, ctx: WriteContext, input: { name: string; alias: string }): Promise<void> {
  if (input.alias === "latest") throw badRequest("alias", "'latest' is managed by the server");
  const target = await resolveRef(tx, ctx.project, `${input.name}:${input.alias}`, {
    reader: ctx.actor,
    field: "alias",
  });
  await lockArtifact(tx, target.artifact.id);
  await releaseAlias(tx, { artifactId: target.artifact.id, alias: input.alias, at: ctx.now() });
}

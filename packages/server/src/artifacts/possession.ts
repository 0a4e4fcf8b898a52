import type { ManifestEntry } from "@pedigree/protocol";
import { and, eq, exists, isNull, ne, not, or, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { projectReadableBy } from "../auth/access";
import type { Actor } from "../auth/actor";
import type { Db } from "../db/client";
import { blobs, blobUploads, versionFiles, versions } from "../db/schema";
import { badRequest } from "../errors";

/**
 * Proof of possession. A version may use a stored blob only when its writer has shown it holds the bytes:
 * it uploaded them (or sent them inline), or a live committed version of a project it reads holds them already.
 * Whether the server stores a blob the writer has not shown is never part of an answer: such a blob is
 * missing, as if it were not stored, and the upload that follows re-hashes the bytes.
 *
 * Callers hold the shared blob locks (storage/blob-locks.ts) of the manifest, so no sweep removes a blob
 * between this check and the commit.
 */
export interface BlobCheck {
  /** The version's blobs this writer must still upload. */
  missing: string[];
  /** Blobs the writer holds whose size is not the one its manifest declares. */
  wrongSize: { sha256: string; declared: number; actual: number }[];
}

/** Checks every stored file of `versionId` for `writer`, in one statement. */
export async function checkBlobPossession(
  tx: Db,
  writer: Pick<Actor, "userId" | "isAdmin">,
  versionId: string,
): Promise<BlobCheck> {
  const other = alias(versionFiles, "other");
  const uploadedByWriter = tx
    .select({ one: sql`1` })
    .from(blobUploads)
    .where(and(eq(blobUploads.sha256, versionFiles.sha256), eq(blobUploads.userId, writer.userId)));
  const inReadableVersion = tx
    .select({ one: sql`1` })
    .from(other)
    .innerJoin(versions, eq(versions.id, other.versionId))
    .where(
      and(
        eq(other.sha256, versionFiles.sha256),
        eq(versions.state, "committed"),
        isNull(versions.deletedAt),
        projectReadableBy(writer, versions.project),
      ),
    );
  // One row per blob: a manifest may hold the same content at several paths (always with one size).
  const checked = tx
    .selectDistinct({
      sha256: versionFiles.sha256,
      declared: sql<number>`${versionFiles.size}`.mapWith(Number).as("declared"),
      actual: sql<number | null>`${blobs.size}`.mapWith(Number).as("actual"),
      held: sql<boolean>`${blobs.sha256} is not null and ${or(exists(uploadedByWriter), exists(inReadableVersion))}`.as(
        "held",
      ),
    })
    .from(versionFiles)
    .leftJoin(blobs, eq(blobs.sha256, versionFiles.sha256))
    .where(eq(versionFiles.versionId, versionId))
    .as("checked");
  const rows = await tx
    .select()
    .from(checked)
    .where(or(not(checked.held), ne(checked.declared, checked.actual)));
  return {
    missing: rows.filter((row) => !row.held).map((row) => row.sha256),
    wrongSize: rows.flatMap((row) =>
      row.held && row.actual !== null ? [{ sha256: row.sha256, declared: row.declared, actual: row.actual }] : [],
    ),
  };
}

/** Refuses a version whose manifest declares a size its blob does not have, naming the entry. */
export function assertDeclaredSizes(manifest: readonly ManifestEntry[], wrongSize: BlobCheck["wrongSize"]): void {
  const [first] = wrongSize;
  if (!first) return;
  const index = manifest.findIndex((entry) => "sha256" in entry && entry.sha256 === first.sha256);
  const path = manifest[index]?.path ?? first.sha256;
  throw badRequest(
    `manifest.${index}.size`,
    `'${path}' declares ${first.declared} bytes, but its content (sha256 ${first.sha256}) has ${first.actual}`,
  );
}

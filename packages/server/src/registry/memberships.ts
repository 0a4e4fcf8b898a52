import type { RegistryMembership } from "@pedigree/protocol";
import type { Db } from "../db/client";

/** The registry collections that hold a version. */
export async function listMemberships(_db: Db, _versionId: string): Promise<RegistryMembership[]> {
  return [];
}

/**
 * The collections that hold any of `versionIds`, with which of them each holds: one set-based query once the
 * registry lands (impact groups descendants by collection with it). No registry yet, so none.
 */
export async function collectionsHolding(
  _db: Db,
  _versionIds: string[],
): Promise<{ registry: string; collection: string; versionIds: string[] }[]> {
  return [];
}

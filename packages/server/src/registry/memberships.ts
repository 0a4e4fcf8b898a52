import type { RegistryMembership } from "@pedigree/protocol";
import type { Db } from "../db/client";

/** The registry collections that hold a version. */
export async function listMemberships(_db: Db, _versionId: string): Promise<RegistryMembership[]> {
  return [];
}

import type { ResolvedVersion } from "../artifacts/refs";
import type { Db } from "../db/client";
import { notFound } from "../errors";

/** Resolves `registry/collection:alias` to the artifact version linked there. */
export async function resolveRegistryRef(
  _db: Db,
  ref: string,
  options: { asOf?: Date; field?: string },
): Promise<ResolvedVersion> {
  throw notFound(`registry ref '${ref}'`, options.field ?? "ref");
}

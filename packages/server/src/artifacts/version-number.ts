import { isStorableVersionNumber, versionNumberLimit, versionNumberOf } from "@pedigree/protocol";
import { badRequest } from "../errors";

/**
 * The index a `vN` selector names, or undefined for an alias, `latest` or an id. An N no version can have
 * (past int4) is a 400 naming `field`, never a value handed to PostgreSQL.
 */
export function versionIndexOf(selector: string, field: string): number | undefined {
  const index = versionNumberOf(selector);
  if (index !== undefined && !isStorableVersionNumber(index))
    throw badRequest(field, `${field}: ${versionNumberLimit}`);
  return index;
}

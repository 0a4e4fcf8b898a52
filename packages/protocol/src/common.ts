import { z } from "zod";
import { hasStorableVersionNumber, PG_INT4_MAX, versionNumberLimit } from "./bounds";

/** Names and ids as shared/SPEC.md defines them. */
export const ProjectName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "project names are lower-case letters, digits, '.', '_', '-' (at most 64)");
export const ArtifactName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "artifact names are letters, digits, '.', '_', '-' (at most 128)");
export const AliasName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "aliases are letters, digits, '.', '_', '-' (at most 64)")
  .refine((alias) => !/^v\d+$/.test(alias), "vN is a version number, not an alias");
export const ArtifactType = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "artifact types are letters, digits, '.', '_', '-' (at most 64)");
export const JobType = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "job types are letters, digits, '.', '_', '-' (at most 64)");
export const RunId = z.string().regex(/^[a-z0-9]{8}$/, "run ids are 8 lower-case letters or digits");
export const VersionId = z.string().regex(/^av_[a-z0-9]{16}$/, "version ids look like av_ and 16 letters or digits");
export const Sha256 = z.string().regex(/^[a-f0-9]{64}$/, "a sha256 is 64 lower-case hex digits");
export const Tag = z.string().min(1).max(64);
export const Tags = z.array(Tag).max(64);
/** A JSON object as the server answers it: config, metadata. */
export const JsonObject = z.record(z.string(), z.unknown());

/**
 * How users name a version: `name`, `name:alias`, `name:vN`, `registry/collection:alias` or a version id.
 * The N of a `vN` is bounded here, so every route that takes a ref refuses one no version can have.
 */
export const Ref = z
  .string()
  .min(1)
  .max(300)
  .refine((ref) => hasStorableVersionNumber(ref.slice(ref.lastIndexOf(":") + 1)), versionNumberLimit)
  .meta({ examples: ["ds", "ds:best", "ds:v0", `ds:v${PG_INT4_MAX}`, "model/zoo-classifier:production"] });

export const Limits = {
  /** Of one logged JSON value (config, summary, metadata), serialised. */
  maxJsonBytes: 1024 * 1024,
  /** Nesting of one logged JSON value: deeper values are refused before PostgreSQL's own stack limit. */
  maxJsonDepth: 64,
  maxManifestEntries: 100_000,
  maxPathLength: 1024,
  maxPageSize: 1000,
  maxHops: 50,
  maxNodes: 10_000,
  /** Of a list in a query string (`artifactTypes=`, `jobTypes=`, `pull=`). */
  maxListItems: 1000,
  maxInlineBlobBytes: 64 * 1024,
  maxInlineTotalBytes: 1024 * 1024,
} as const;

/** A JSON object as users log it (config, summary, metadata), within the size and nesting limits. */
export const LoggedJsonObject = JsonObject.refine(
  (value) => jsonDepthAtMost(value, Limits.maxJsonDepth),
  // Stop here: measuring the size of a too-deep value would overflow the stack.
  { message: `JSON values nest at most ${Limits.maxJsonDepth} deep (maxJsonDepth)`, abort: true },
).refine(
  (value) => new TextEncoder().encode(JSON.stringify(value)).length <= Limits.maxJsonBytes,
  `JSON values are at most ${Limits.maxJsonBytes} bytes (maxJsonBytes)`,
);

/** Whether `value` nests at most `max` arrays/objects deep; stops descending once past it. */
export function jsonDepthAtMost(value: unknown, max: number): boolean {
  if (value === null || typeof value !== "object") return true;
  if (max <= 0) return false;
  return Object.values(value).every((child) => jsonDepthAtMost(child, max - 1));
}

export const Page = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(Limits.maxPageSize, `pages hold at most ${Limits.maxPageSize} items (maxPageSize)`)
    .default(100),
  cursor: z.string().max(512).optional(),
});

/** A case-insensitive search over names: `q` matches anywhere in the name (an index serves a prefix). */
export const SearchText = z.string().trim().min(1).max(200);

/**
 * Offset paging with a total, for lists a person pages through ("26–50 of 158"): `limit` (default 50) items
 * from `offset`. Lists that also take a `cursor` keep it for scripts.
 */
export const OffsetPage = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(Limits.maxPageSize, `pages hold at most ${Limits.maxPageSize} items (maxPageSize)`)
    .default(50),
  offset: z.coerce.number().int().min(0).max(2_147_483_647, "offset is at most 2147483647").default(0),
});

/** A boolean query parameter: `true`/`false`/`1`/`0`. */
export const QueryFlag = z
  .union([z.boolean(), z.enum(["true", "false", "1", "0"])])
  .transform((value) => value === true || value === "true" || value === "1");

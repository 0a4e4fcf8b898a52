import { z } from "zod";
import { Timestamp } from "./bounds";

/** At most ten years: an expiry must stay a date PostgreSQL and JavaScript both store. */
const MAX_TTL_SECONDS = 10 * 366 * 24 * 3600;
const unitSeconds = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;

/** A retention period, `30d`, `12h`, `90m`, `2w`, `45s`: parsed to seconds. */
export const Ttl = z
  .string()
  .regex(/^[1-9]\d{0,8}[smhdw]$/, "a ttl is a positive number and a unit: s, m, h, d or w (e.g. 30d)")
  .transform((text) => Number(text.slice(0, -1)) * unitSeconds[text.slice(-1) as keyof typeof unitSeconds])
  .refine((seconds) => seconds <= MAX_TTL_SECONDS, "a ttl is at most ten years")
  .meta({ examples: ["30d", "12h"] });

/** Why a version is a tombstone, who made it one (null: it expired), and when. */
export const Deletion = z.object({
  reason: z.enum(["deleted", "expired"]),
  by: z.string().nullable(),
  at: Timestamp,
});
export type Deletion = z.infer<typeof Deletion>;

/** Present on tombstones (deleted or expired versions, deleted runs) only. */
export const TombstoneFields = {
  deleted: z.literal(true).optional(),
  deletion: Deletion.optional(),
};

const booleanFlag = z
  .union([z.boolean(), z.enum(["true", "false", "1", "0"])])
  .transform((value) => value === true || value === "true" || value === "1");

/** `?unlink=true`: a registry admin unlinks the version from its collections in the same call. */
export const DeleteVersionQuery = z.object({ unlink: booleanFlag.default(false) });
export type DeleteVersionQuery = z.input<typeof DeleteVersionQuery>;

export const UnlinkedMembership = z.object({ registry: z.string(), collection: z.string(), version: z.string() });

export const DeleteVersionsResponse = z.object({
  /** Ids of the versions made tombstones by this call (none when all already were). */
  deleted: z.array(z.string()),
  /** Collections the versions were unlinked from (with `unlink=true`). */
  unlinked: z.array(UnlinkedMembership),
  /** Aliases the versions lost. */
  aliasesRemoved: z.array(z.string()),
});
export type DeleteVersionsResponse = z.infer<typeof DeleteVersionsResponse>;

/** PATCH of a version: its retention (`null` keeps it for good). */
export const UpdateVersionBody = z.object({ ttl: Ttl.nullable() });
export type UpdateVersionBody = z.input<typeof UpdateVersionBody>;

export const ProjectSettings = z.object({
  project: z.string(),
  /** Retention of versions logged without a `ttl`, in seconds; null keeps them. */
  defaultTtlSeconds: z.number().int().nullable(),
});
export type ProjectSettings = z.infer<typeof ProjectSettings>;

export const UpdateProjectSettingsBody = z.object({ defaultTtl: Ttl.nullable() });
export type UpdateProjectSettingsBody = z.input<typeof UpdateProjectSettingsBody>;

export const AuditAction = z.enum([
  "version_deleted",
  "version_expired",
  "artifact_deleted",
  "run_deleted",
  "blobs_collected",
]);

export const AuditEvent = z.object({
  id: z.number().int(),
  project: z.string().nullable(),
  action: AuditAction,
  /** The user's name; null for the server's own sweeps. */
  actor: z.string().nullable(),
  at: Timestamp,
  target: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
export type AuditEvent = z.infer<typeof AuditEvent>;
export const AuditListQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });
export const AuditList = z.object({ events: z.array(AuditEvent) });
export type AuditList = z.infer<typeof AuditList>;

export const GcQuery = z.object({ dryRun: booleanFlag.default(false) });
export type GcQuery = z.input<typeof GcQuery>;

/** What a garbage collection removed (or, dry, would remove). */
export const GcResult = z.object({
  dryRun: z.boolean(),
  /** Blobs no live version references, unreferenced for longer than the grace period. */
  blobs: z.number().int(),
  bytes: z.number(),
  /** Pending versions never committed within the grace period. */
  pendingVersions: z.number().int(),
  /** Temporary files of uploads that cannot finish. */
  tempFiles: z.number().int(),
  /** Versions whose ttl had passed, made tombstones by this run. */
  expiredVersions: z.number().int(),
});
export type GcResult = z.infer<typeof GcResult>;

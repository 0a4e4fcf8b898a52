import { z } from "zod";
import {
  ByteSize,
  hasStorableVersionNumber,
  MAX_SAFE_SIZE,
  PG_INT4_MAX,
  Timestamp,
  versionNumberLimit,
} from "./bounds";
import {
  AliasName,
  ArtifactName,
  ArtifactType,
  JsonObject,
  Limits,
  LoggedJsonObject,
  OffsetPage,
  ProjectName,
  QueryFlag,
  Ref,
  RunId,
  SearchText,
  Sha256,
  VersionId,
} from "./common";
import { DatasetOpenLineage } from "./openlineage";
import { TombstoneFields, Ttl } from "./storage";

export { ArtifactType } from "./common";

const ManifestPath = z
  .string()
  .min(1)
  .max(Limits.maxPathLength, `paths are at most ${Limits.maxPathLength} characters (maxPathLength)`)
  .refine(isSafeRelativePath, "paths are relative, '/'-separated, without '..', '.', empty segments or NUL");

/** A file stored by Pedigree, addressed by its sha256. */
export const StoredEntry = z.object({
  path: ManifestPath,
  sha256: Sha256,
  size: ByteSize,
});
/** A file left in outside storage; Pedigree keeps the address, not the bytes. */
export const ReferenceEntry = z.object({
  path: ManifestPath,
  uri: z
    .string()
    .max(2048)
    .regex(/^(s3|gs|https?|file):\/\/.+/, "references are s3://, gs://, http(s):// or file:// URIs"),
  checksum: z.string().max(256).optional(),
  size: ByteSize.optional(),
});
export const ManifestEntry = z.union([StoredEntry, ReferenceEntry]);
export type StoredEntry = z.infer<typeof StoredEntry>;
export type ReferenceEntry = z.infer<typeof ReferenceEntry>;
export type ManifestEntry = z.infer<typeof ManifestEntry>;

export const Manifest = z
  .array(ManifestEntry)
  .max(Limits.maxManifestEntries, `manifests hold at most ${Limits.maxManifestEntries} entries (maxManifestEntries)`)
  .superRefine((entries, ctx) => {
    const problem = manifestProblem(entries);
    if (problem) ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
  })
  // A version's size is the sum: it must fit its column and stay exact as a JavaScript number.
  .refine(
    (entries) => entries.reduce((total, entry) => total + (entry.size ?? 0), 0) <= MAX_SAFE_SIZE,
    `the sizes of a manifest add up to at most ${MAX_SAFE_SIZE} bytes`,
  );

/**
 * What makes a list of entries no manifest, naming the entry: two entries at one path, a path that is a
 * directory of another (`a` and `a/b` cannot both be written out), one sha256 declared with two sizes.
 * Linear in the total length of the paths.
 */
function manifestProblem(entries: readonly ManifestEntry[]): { path: (string | number)[]; message: string } | null {
  const paths = new Map<string, number>();
  for (const [index, entry] of entries.entries()) {
    const first = paths.get(entry.path);
    if (first !== undefined)
      return {
        path: [index, "path"],
        message: `manifest paths must be unique: '${entry.path}' is also entry ${first}`,
      };
    paths.set(entry.path, index);
  }
  const sizes = new Map<string, number>();
  for (const [index, entry] of entries.entries()) {
    for (let slash = entry.path.indexOf("/"); slash !== -1; slash = entry.path.indexOf("/", slash + 1)) {
      const file = paths.get(entry.path.slice(0, slash));
      if (file !== undefined) {
        return {
          path: [index, "path"],
          message: `'${entry.path}' lies inside '${entry.path.slice(0, slash)}', which entry ${file} makes a file`,
        };
      }
    }
    if (!("sha256" in entry)) continue;
    const size = sizes.get(entry.sha256);
    if (size !== undefined && size !== entry.size) {
      return {
        path: [index, "size"],
        message: `'${entry.path}' declares ${entry.size} bytes for sha256 ${entry.sha256}, another entry ${size}`,
      };
    }
    sizes.set(entry.sha256, entry.size);
  }
  return null;
}

export const VersionState = z.enum(["pending", "committed"]);

export const CreateVersionBody = z.object({
  name: ArtifactName,
  type: ArtifactType,
  manifest: Manifest,
  metadata: LoggedJsonObject.default({}),
  description: z.string().max(10_000).optional(),
  generated: z.boolean().default(false),
  /** The producing run; its output edge is recorded on commit. */
  runId: RunId.optional(),
  aliases: z.array(AliasName).max(64).default([]),
  /** Retention: the version becomes a tombstone this long after it is committed (default: the project's). */
  ttl: Ttl.optional(),
  /**
   * Contents of small files (base64, by sha256), sent with the manifest so a small version is logged in one
   * request instead of three. Each at most `Limits.maxInlineBlobBytes`, all together at most `maxInlineTotalBytes`.
   */
  inlineBlobs: z
    .record(Sha256, z.string().max(Math.ceil(Limits.maxInlineBlobBytes / 3) * 4 + 4))
    .refine((blobs) => Object.keys(blobs).length <= 1000, "at most 1000 inline blobs")
    .optional(),
});
export type CreateVersionBody = z.input<typeof CreateVersionBody>;

export const CommitVersionBody = z.object({
  runId: RunId.optional(),
  aliases: z.array(AliasName).max(64).default([]),
});
export type CommitVersionBody = z.input<typeof CommitVersionBody>;

export const VersionSummary = z.object({
  id: VersionId,
  project: ProjectName,
  artifact: z.string(),
  type: z.string(),
  /** `vN` once committed; null while pending. */
  version: z.string().nullable(),
  state: VersionState,
  aliases: z.array(z.string()),
  digest: Sha256,
  size: z.number(),
  fileCount: z.number(),
  generated: z.boolean(),
  description: z.string().nullable(),
  createdAt: Timestamp,
  committedAt: Timestamp.nullable(),
  /** When the version expires (retention); absent when it is kept for good. */
  expiresAt: Timestamp.optional(),
  ...TombstoneFields,
});
export type VersionSummary = z.infer<typeof VersionSummary>;

/**
 * A missing blob the client may PUT straight to the blob store (a presigned URL, with exactly these headers),
 * bypassing the server; then `POST /blobs/:sha256/direct` with `upload` has the server verify its sha256 and
 * record it. Until then the upload proves nothing and is not stored.
 */
export const DirectUpload = z.object({
  sha256: Sha256,
  url: z.string().url(),
  headers: z.record(z.string(), z.string()),
  upload: z.string().uuid(),
  expiresAt: Timestamp,
});
export type DirectUpload = z.infer<typeof DirectUpload>;

export const CreateVersionResponse = z.object({
  version: VersionSummary,
  /** Blobs the server does not have yet: upload them, then commit. Empty means the version is committed. */
  missingBlobs: z.array(Sha256),
  /**
   * Of the missing blobs, those the store takes directly (large files, on a store with presigned URLs); the
   * others, or any whose direct upload fails, go through `PUT /blobs/:sha256`.
   */
  directUploads: z.array(DirectUpload).optional(),
});
export type CreateVersionResponse = z.infer<typeof CreateVersionResponse>;

const RunRef = z.object({
  id: z.string(),
  name: z.string(),
  jobType: z.string(),
  state: z.string(),
});

export const RegistryMembership = z.object({
  registry: z.string(),
  collection: z.string(),
  version: z.string(),
  aliases: z.array(z.string()),
  linkedAt: Timestamp,
});
export type RegistryMembership = z.infer<typeof RegistryMembership>;

/** What a run gets when it uses a version: enough to download it, without the version's whole neighbourhood. */
export const VersionContents = VersionSummary.extend({
  metadata: JsonObject,
  manifest: z.array(ManifestEntry),
});
export type VersionContents = z.infer<typeof VersionContents>;

export const DETAILS_RUN_LIMIT = 100;

export const VersionDetails = VersionSummary.extend({
  metadata: JsonObject,
  manifest: z.array(ManifestEntry),
  /** The first producers (at most `DETAILS_RUN_LIMIT`); `producerCount` says how many there are. */
  producers: z.array(RunRef.extend({ loggedAt: Timestamp })),
  producerCount: z.number().int(),
  /** The most recent consumers (at most `DETAILS_RUN_LIMIT`); `consumerCount` says how many there are. */
  consumers: z.array(RunRef.extend({ requestedRef: z.string(), usedAt: Timestamp })),
  consumerCount: z.number().int(),
  memberships: z.array(RegistryMembership),
  /** Set on versions of datasets that came from OpenLineage events. */
  openlineage: DatasetOpenLineage.optional(),
});
export type VersionDetails = z.infer<typeof VersionDetails>;

export const ArtifactSummary = z.object({
  project: ProjectName,
  name: z.string(),
  type: z.string(),
  description: z.string().nullable(),
  versionCount: z.number(),
  createdAt: Timestamp,
});
export type ArtifactSummary = z.infer<typeof ArtifactSummary>;

export const ArtifactDetails = ArtifactSummary.extend({
  versions: z.array(VersionSummary),
});
export type ArtifactDetails = z.infer<typeof ArtifactDetails>;

export const ArtifactList = z.object({
  artifacts: z.array(ArtifactSummary),
  /** Artifacts matching the filters, over all pages. */
  total: z.number().int(),
});
export type ArtifactList = z.infer<typeof ArtifactList>;

export const SetAliasBody = z.object({
  /** `vN` or a version id of this artifact. */
  version: z
    .string()
    .min(1)
    .max(64)
    .refine(hasStorableVersionNumber, versionNumberLimit)
    .meta({ examples: ["v0", `v${PG_INT4_MAX}`, "best"] }),
});

/**
 * `GET …/artifacts?type=&q=&includeGenerated=&limit=&offset=`: by name. An artifact whose every version is
 * `generated` (code snapshots, run tables) is left out unless `includeGenerated`.
 */
export const ArtifactListQuery = OffsetPage.extend({
  type: ArtifactType.optional(),
  q: SearchText.optional(),
  includeGenerated: QueryFlag.default(false),
  limit: OffsetPage.shape.limit.unwrap().default(100),
});

/** `GET …/artifacts/:name/versions?q=&limit=&offset=`: newest first; `q` matches `vN`, an alias or the description. */
export const VersionListQuery = OffsetPage.extend({ q: SearchText.optional() });
export const VersionList = z.object({ versions: z.array(VersionSummary), total: z.number().int() });
export type VersionList = z.infer<typeof VersionList>;

/** `GET …/versions/:versionId/consumers` and `…/producers`: "used by" and "logged by", paged, `q` on the run name. */
export const VersionRunsQuery = OffsetPage.extend({ q: SearchText.optional() });
export type VersionRunsQuery = z.infer<typeof VersionRunsQuery>;
export const VersionRun = RunRef.extend({
  /** When the run used (consumers) or logged (producers) the version. */
  at: Timestamp,
  /** What the run asked for (consumers only). */
  requestedRef: z.string().nullable(),
});
export type VersionRun = z.infer<typeof VersionRun>;
export const VersionRuns = z.object({ runs: z.array(VersionRun), total: z.number().int() });
export type VersionRuns = z.infer<typeof VersionRuns>;
/** `GET …/versions?ref=`: the version a ref names. */
export const ResolveVersionQuery = z.object({ ref: Ref });
/**
 * `GET …/versions/:versionId/files?path=[&direct=true]`. With `direct=true` a store with presigned URLs answers a
 * large file with a `DirectDownload` (JSON) instead of its bytes; small files, and other stores, answer bytes.
 */
export const VersionFileQuery = z.object({
  path: ManifestPath,
  direct: z
    .enum(["true", "false"])
    .transform((value) => value === "true")
    .optional(),
});

/** Where to GET a file's bytes (a presigned URL, no credentials needed until `expiresAt`); verify its sha256. */
export const DirectDownload = z.object({
  url: z.string().url(),
  sha256: Sha256,
  size: ByteSize,
  expiresAt: Timestamp,
});
export type DirectDownload = z.infer<typeof DirectDownload>;

/** `POST /blobs/:sha256/direct`: the upload of a `DirectUpload` is done; the answer is a `BlobUploadResponse`. */
export const CompleteDirectUploadBody = z.object({ upload: z.string().uuid() });
export type CompleteDirectUploadBody = z.input<typeof CompleteDirectUploadBody>;

/** The same answer whether or not the server held these bytes before: an upload reveals nothing of others' files. */
export const BlobUploadResponse = z.object({
  sha256: Sha256,
  size: z.number(),
});

export function isSafeRelativePath(path: string): boolean {
  if (path.includes("\0") || path.includes("\\") || path.startsWith("/")) return false;
  return path.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..");
}

export { AliasName, ArtifactName };

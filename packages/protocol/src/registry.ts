import { z } from "zod";
import { AliasName, ArtifactName, ArtifactType, VersionSummary } from "./artifacts";
import {
  hasStorableVersionNumber,
  isStorableTime,
  MAX_SAFE_SIZE,
  PG_INT4_MAX,
  Timestamp,
  VersionNumber,
  versionNumberLimit,
  versionNumberOf,
} from "./bounds";
import { OffsetPage, Page, ProjectName, Ref, SearchText, Sha256, Tags, VersionId } from "./common";

/** Registries, collections, links and the action history, as shared/SPEC.md "registry" … "Action history" define them. */

export const RegistryName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "registry names are lower-case letters, digits, '.', '_', '-' (at most 64)");
export const CollectionName = ArtifactName;

const REGISTRY_REF =
  /^([a-z0-9][a-z0-9._-]{0,63})\/([A-Za-z0-9][A-Za-z0-9._-]{0,127})(?::([A-Za-z0-9][A-Za-z0-9._-]{0,63}))?$/;

/** A registry ref: `registry/collection[:selector]`, where the selector is `latest` (default), a `vN` or an alias. */
export interface RegistryRef {
  registry: string;
  collection: string;
  selector: string;
}

/** The parts of `registry/collection[:selector]`, or null when `ref` is not of that form. */
export function parseRegistryRef(ref: string): RegistryRef | null {
  const match = REGISTRY_REF.exec(ref);
  if (!match) return null;
  const [, registry = "", collection = "", selector = "latest"] = match;
  return { registry, collection, selector };
}
const Description = z.string().max(10_000);
/** Who reads a registry: `restricted` (its members; server admins read all) or `organization` (every signed-in user). */
export const RegistryVisibility = z.enum(["restricted", "organization"]);
export type RegistryVisibility = z.infer<typeof RegistryVisibility>;

export const CreateRegistryBody = z.object({
  name: RegistryName,
  description: Description.default(""),
  /** Artifact types the registry accepts; absent or null means any type. */
  acceptedTypes: z.array(ArtifactType).min(1).max(64).nullable().default(null),
  /** Aliases only admins may add or remove (e.g. `production`). */
  protectedAliases: z.array(AliasName).max(64).default([]),
  /**
   * Who reads it; a new registry is `restricted` when not given. Left out, creating an existing registry again
   * accepts whatever visibility it has (an admin may have changed it since).
   */
  visibility: RegistryVisibility.optional(),
});
export type CreateRegistryBody = z.input<typeof CreateRegistryBody>;

/** What registry admins may change after creation. */
export const UpdateRegistryBody = z
  .object({ description: Description.optional(), visibility: RegistryVisibility.optional() })
  .refine(
    (body) => body.description !== undefined || body.visibility !== undefined,
    "give a description or visibility",
  );
export type UpdateRegistryBody = z.input<typeof UpdateRegistryBody>;

export const Registry = z.object({
  name: RegistryName,
  description: z.string(),
  acceptedTypes: z.array(z.string()).nullable(),
  protectedAliases: z.array(z.string()),
  visibility: RegistryVisibility,
  createdAt: Timestamp,
});
export type Registry = z.infer<typeof Registry>;
export const RegistryList = z.object({ registries: z.array(Registry) });
export type RegistryList = z.infer<typeof RegistryList>;

export const CreateCollectionBody = z.object({
  name: CollectionName,
  type: ArtifactType,
  description: Description.default(""),
  tags: Tags.default([]),
});
export type CreateCollectionBody = z.input<typeof CreateCollectionBody>;

export const UpdateCollectionBody = z
  .object({ description: Description.optional(), tags: Tags.optional() })
  .refine((body) => body.description !== undefined || body.tags !== undefined, "give a description or tags");
export type UpdateCollectionBody = z.input<typeof UpdateCollectionBody>;

export const Collection = z.object({
  registry: RegistryName,
  name: z.string(),
  type: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
  /** Versions ever linked, so the next link is `v{versionCount}`. */
  versionCount: z.number().int(),
  /** Versions linked now. */
  linkedCount: z.number().int(),
  createdAt: Timestamp,
});
export type Collection = z.infer<typeof Collection>;

export const CollectionListQuery = Page.extend({
  type: ArtifactType.optional(),
  tag: z.string().min(1).max(64).optional(),
  /** Name prefix. */
  prefix: z.string().min(1).max(128).optional(),
  /** Name contains (case-insensitive). */
  q: SearchText.optional(),
  /** Offset paging; ignored when `cursor` is given. */
  offset: OffsetPage.shape.offset.optional(),
});
export type CollectionListQuery = z.input<typeof CollectionListQuery>;
export type CollectionListFilters = z.output<typeof CollectionListQuery>;
export const CollectionList = z.object({
  collections: z.array(Collection),
  nextCursor: z.string().nullable(),
  /** Collections matching the filters, over all pages. */
  total: z.number().int(),
});
export type CollectionList = z.infer<typeof CollectionList>;

/** A version linked into a collection: the collection's own `vN` and aliases over the unchanged artifact version. */
export const CollectionVersion = z.object({
  registry: RegistryName,
  collection: z.string(),
  version: z.string(),
  aliases: z.array(z.string()),
  linkedAt: Timestamp,
  source: VersionSummary,
});
export type CollectionVersion = z.infer<typeof CollectionVersion>;
export const CollectionVersionList = z.object({ versions: z.array(CollectionVersion) });
export type CollectionVersionList = z.infer<typeof CollectionVersionList>;

/** Linking a version of `project` named by `ref`; the collection is created (with the version's type) on first link. */
export const LinkBody = z.object({
  project: ProjectName,
  ref: Ref,
  aliases: z.array(AliasName).max(64).default([]),
  /** Take an alias from the collection version holding it (true) or answer 409 (false). */
  move: z.boolean().default(true),
});
export type LinkBody = z.input<typeof LinkBody>;
export const LinkResponse = z.object({
  membership: CollectionVersion,
  /** False when the version was already linked (the call changed no link). */
  linked: z.boolean(),
});
export type LinkResponse = z.infer<typeof LinkResponse>;

/** A linked version as a path names it: the collection's `vN`, an alias, `latest`, or an artifact version id. */
export const LinkedVersionSelector = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "give a vN, an alias or a version id")
  .refine(hasStorableVersionNumber, versionNumberLimit);

/** A version of a collection: its `vN`, or the id of the artifact version linked there. */
export const CollectionVersionSelector = z
  .string()
  .max(64)
  .refine(
    (selector) => versionNumberOf(selector) !== undefined || VersionId.safeParse(selector).success,
    "versions are the collection's vN or a version id",
  )
  .refine(hasStorableVersionNumber, versionNumberLimit)
  .meta({ examples: ["v0", `v${PG_INT4_MAX}`, "av_0123456789abcdef"] });

export const SetCollectionAliasBody = z.object({
  /** The collection's `vN` or a linked artifact version id. */
  version: CollectionVersionSelector,
  move: z.boolean().default(true),
});
export type SetCollectionAliasBody = z.input<typeof SetCollectionAliasBody>;

/** Replaces the aliases of one collection version with exactly these. */
export const SetVersionAliasesBody = z.object({
  aliases: z.array(AliasName).max(64),
  move: z.boolean().default(true),
});
export type SetVersionAliasesBody = z.input<typeof SetVersionAliasesBody>;

export const HistoryAction = z.enum([
  "collection_created",
  "version_linked",
  "version_unlinked",
  "alias_added",
  "alias_removed",
  "tags_changed",
  "description_changed",
]);
export type HistoryAction = z.infer<typeof HistoryAction>;

/** One event of a collection's append-only action history. `hash` = sha256(prevHash ‖ canonical JSON of the rest). */
export const HistoryEvent = z.object({
  id: z.string(),
  /** Position in the collection's chain, 1, 2, … without gaps. */
  seq: z.number().int(),
  registry: z.string(),
  collection: z.string(),
  action: HistoryAction,
  actor: z.string(),
  actorId: z.string(),
  at: Timestamp,
  /** The collection's `vN`, where a version is involved. */
  version: z.string().nullable(),
  /** `artifact:vN` of the linked artifact version, its project and id. */
  sourceVersion: z.string().nullable(),
  sourceProject: z.string().nullable(),
  sourceVersionId: z.string().nullable(),
  alias: z.string().nullable(),
  /** Before and after, for tags_changed and description_changed. */
  details: z.record(z.string(), z.unknown()).nullable(),
  prevHash: Sha256,
  hash: Sha256,
});
export type HistoryEvent = z.infer<typeof HistoryEvent>;

const commaActions = z
  .union([z.array(HistoryAction), z.string()])
  .transform((value) => (Array.isArray(value) ? value : value.split(",").filter(Boolean)))
  .pipe(z.array(HistoryAction).min(1));

/** Where a history listing goes on: after the event at (`at`, `id`), newest first. */
export interface HistoryPosition {
  at: Date;
  id: number;
}

/** The opaque `nextCursor` of a history page: base64url of `<ISO time>|<event id>`. */
export function encodeHistoryCursor(position: HistoryPosition): string {
  return btoa(`${position.at.toISOString()}|${position.id}`).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The position a cursor names, or undefined when it is not one `encodeHistoryCursor` could have made. */
export function decodeHistoryCursor(cursor: string): HistoryPosition | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(cursor)) return undefined;
  let text: string;
  try {
    text = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return undefined;
  }
  const match = /^(.+)\|(\d{1,16})$/.exec(text);
  if (!match || !Timestamp.safeParse(match[1]).success) return undefined;
  const at = new Date(match[1] as string);
  const id = Number(match[2]);
  return isStorableTime(at) && id <= MAX_SAFE_SIZE ? { at, id } : undefined;
}

/** `cursor=` of a history listing, decoded to the position it names (a 400 naming `cursor` otherwise). */
export const HistoryCursor = z
  .string()
  .max(512)
  .transform((cursor, ctx) => {
    const position = decodeHistoryCursor(cursor);
    if (position) return position;
    ctx.issues.push({ code: "custom", input: cursor, message: "cursor is the nextCursor of the previous page" });
    return z.NEVER;
  });

export const HistoryQuery = Page.extend({
  cursor: HistoryCursor.optional(),
  action: commaActions.optional(),
  /** User name or id. */
  actor: z.string().min(1).max(128).optional(),
  /** The collection's `vN`. */
  version: VersionNumber.optional(),
  from: Timestamp.optional(),
  to: Timestamp.optional(),
});
export type HistoryQueryInput = z.input<typeof HistoryQuery>;
export type HistoryQuery = z.output<typeof HistoryQuery>;

export const HistoryPage = z.object({ events: z.array(HistoryEvent), nextCursor: z.string().nullable() });
export type HistoryPage = z.infer<typeof HistoryPage>;

/** A point of a collection's chain: event `seq` and its `hash`. Kept by a client, it proves later that the chain still extends it. */
export const HistoryCheckpoint = z.object({ seq: z.number().int().min(0), hash: Sha256 });
export type HistoryCheckpoint = z.infer<typeof HistoryCheckpoint>;

/** `GET …/history/verify?sinceSeq=&sinceHash=`: also prove the chain extends that checkpoint. */
export const HistoryVerifyQuery = z
  .object({
    sinceSeq: z.coerce.number().int().min(1).max(2_147_483_647).optional(),
    sinceHash: Sha256.optional(),
  })
  .superRefine((query, context) => {
    if ((query.sinceSeq === undefined) !== (query.sinceHash === undefined)) {
      context.addIssue({
        code: "custom",
        path: [query.sinceSeq === undefined ? "sinceSeq" : "sinceHash"],
        message: "a checkpoint is sinceSeq and sinceHash together",
      });
    }
  });
export type HistoryVerifyQueryInput = z.input<typeof HistoryVerifyQuery>;

/** One way the collection's current state differs from what replaying its events gives. */
export const HistoryStateDifference = z.object({
  kind: z.enum(["link", "alias", "type", "description", "tags", "versionCount"]),
  /** The collection's `vN` for a link, the alias for an alias, null for the collection's own fields. */
  name: z.string().nullable(),
  /** What the events say, and what the collection holds now (null: nothing). */
  history: z.string().nullable(),
  current: z.string().nullable(),
  message: z.string(),
});
export type HistoryStateDifference = z.infer<typeof HistoryStateDifference>;

export const HistoryVerification = z.object({
  registry: z.string(),
  collection: z.string(),
  /** The chain is intact, replaying it gives the collection's current state, and it extends `since` when asked. */
  ok: z.boolean(),
  eventCount: z.number().int(),
  headHash: Sha256,
  /** The chain's head as verified now: keep it, and pass it back as `since` to prove later that no event was cut or rewritten. */
  head: HistoryCheckpoint,
  /** The first event whose row does not match the chain, or null when the chain is intact. */
  firstBroken: z.object({ id: z.string().nullable(), seq: z.number().int(), reason: z.string() }).nullable(),
  /** Links, aliases and fields of the collection that differ from what the events say (changed behind the server's back). */
  stateDifferences: z.array(HistoryStateDifference),
  /** The checkpoint asked about and whether the chain holds it, or null when none was given. */
  since: HistoryCheckpoint.extend({ inChain: z.boolean(), reason: z.string().nullable() }).nullable(),
});
export type HistoryVerification = z.infer<typeof HistoryVerification>;

import { z } from "zod";
import { ArtifactType, VersionSummary } from "./artifacts";
import { Timestamp } from "./bounds";
import {
  JobType,
  JsonObject,
  LoggedJsonObject,
  OffsetPage,
  Page,
  ProjectName,
  Ref,
  RunId,
  SearchText,
  Tag,
  Tags,
} from "./common";
import { RunOpenLineage } from "./openlineage";
import { TombstoneFields } from "./storage";

/** `aborted`: an OpenLineage ABORT, the run's own terminal state (neither finished nor failed). */
export const RunState = z.enum(["running", "finished", "failed", "crashed", "aborted"]);
export type RunState = z.infer<typeof RunState>;

export const CreateRunBody = z.object({
  /** Client-generated so a retried create never makes a second run. */
  id: RunId.optional(),
  name: z.string().min(1).max(128).optional(),
  jobType: JobType.default("job"),
  config: LoggedJsonObject.default({}),
  tags: Tags.default([]),
});
export type CreateRunBody = z.input<typeof CreateRunBody>;

export const UpdateRunBody = z.object({
  state: RunState.optional(),
  heartbeat: z.boolean().optional(),
  tags: Tags.optional(),
  summary: LoggedJsonObject.optional(),
});
export type UpdateRunBody = z.input<typeof UpdateRunBody>;

export const RunSummary = z.object({
  id: RunId,
  project: ProjectName,
  name: z.string(),
  jobType: z.string(),
  state: RunState,
  tags: z.array(z.string()),
  createdBy: z.string(),
  startedAt: Timestamp,
  finishedAt: Timestamp.nullable(),
  heartbeatAt: Timestamp,
  ...TombstoneFields,
});
export type RunSummary = z.infer<typeof RunSummary>;

export const RunInput = z.object({
  version: VersionSummary,
  requestedRef: z.string(),
  usedAt: Timestamp,
});
export type RunInput = z.infer<typeof RunInput>;

export const RunDetails = RunSummary.extend({
  config: JsonObject,
  summary: JsonObject,
  inputs: z.array(RunInput),
  outputs: z.array(VersionSummary),
  /** Set on runs that came from OpenLineage events. */
  openlineage: RunOpenLineage.optional(),
});
export type RunDetails = z.infer<typeof RunDetails>;

export const UseArtifactBody = z.object({
  ref: Ref,
  /** When given, the version must be of this type (a 409 otherwise). */
  type: ArtifactType.optional(),
  /** The project the ref lives in, when it is not the run's own. */
  project: ProjectName.optional(),
  /**
   * When the run used it, by the client's clock. A use that reaches the server more than a minute later (a
   * write queued while the server was away) resolves the ref as it stood then and keeps that time on the edge.
   */
  usedAt: Timestamp.optional(),
});
export type UseArtifactBody = z.input<typeof UseArtifactBody>;

/** `GET …/runs`: newest first; the cursor is the last run's ordinal (an int4, so at most 9 digits). */
export const RunListQuery = Page.extend({
  jobType: JobType.optional(),
  /** Name contains (case-insensitive). */
  q: SearchText.optional(),
  state: RunState.optional(),
  tag: Tag.optional(),
  /** Offset paging (the web app's pager); ignored when `cursor` is given. */
  offset: OffsetPage.shape.offset.optional(),
  cursor: z
    .string()
    .regex(/^\d{1,9}$/, "cursor is the nextCursor of the previous page")
    .meta({ examples: ["999999999"] })
    .optional(),
});

export const RunList = z.object({
  runs: z.array(RunSummary),
  nextCursor: z.string().nullable(),
  /** Runs matching the filters, over all pages. */
  total: z.number().int(),
});
export type RunList = z.infer<typeof RunList>;

export type RunListQuery = z.input<typeof RunListQuery>;

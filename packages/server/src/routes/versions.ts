import type { Readable } from "node:stream";
import {
  CommitVersionBody,
  CreateVersionBody,
  ResolveVersionQuery,
  VersionFileQuery,
  VersionId,
} from "@pedigree/protocol";
import { type Context, Hono } from "hono";
import { stream } from "hono/streaming";
import { stageInlineBlobs } from "../artifacts/blobs";
import { getVersionDetails } from "../artifacts/details";
import { type ResolvedVersion, resolveRef } from "../artifacts/refs";
import { commitVersion, createVersion } from "../artifacts/versions";
import type { AppDeps, AppEnv } from "../context";
import { badRequest, notFound, parseInput } from "../errors";
import { projectVisibility } from "../lineage/visibility";
import { keepingOnlyRecorded } from "../storage/stored-blobs";
import { jsonBody, projectOf, queryOf, writeContext } from "./request";

/** /api/v1/projects/:project/versions: two-phase logging, resolution of refs, details and file downloads. */
export function versionRoutes(deps: AppDeps) {
  const versionIdOf = (param: string | undefined) => parseInput(VersionId, param, "versionId");
  const details = (c: Context<AppEnv>, ref: string) =>
    deps.db.read(async (db) => {
      const visibility = await projectVisibility(db, c.get("actor"));
      return getVersionDetails(db, await resolveRef(db, projectOf(c), ref, visibility), visibility);
    });

  return new Hono<AppEnv>()
    .post("/", async (c) => {
      const { inlineBlobs, ...body } = await jsonBody(c, CreateVersionBody);
      const staged = inlineBlobs ? await stageInlineBlobs(deps.blobs, body.manifest, inlineBlobs) : [];
      const inline = { store: deps.blobs, staged };
      const created = await keepingOnlyRecorded(deps.db, deps.blobs, staged, () =>
        deps.db.transaction((tx) => createVersion(tx, writeContext(c, deps), body, inline)),
      );
      return c.json(created, created.missingBlobs.length > 0 ? 202 : 201);
    })
    .post("/:versionId/commit", async (c) => {
      const versionId = versionIdOf(c.req.param("versionId"));
      const body = await jsonBody(c, CommitVersionBody);
      return c.json(await deps.db.transaction((tx) => commitVersion(tx, writeContext(c, deps), versionId, body)));
    })
    .get("/", async (c) => c.json(await details(c, queryOf(c, ResolveVersionQuery).ref)))
    .get("/:versionId", async (c) => c.json(await details(c, versionIdOf(c.req.param("versionId")))))
    .get("/:versionId/files", async (c) => {
      const versionId = versionIdOf(c.req.param("versionId"));
      const { path } = queryOf(c, VersionFileQuery);
      const reader = c.get("actor").userId;
      const resolved = await deps.db.read((db) => resolveRef(db, projectOf(c), versionId, { reader }));
      return streamVersionFile(c, deps, resolved, path);
    });
}

/** Answers the bytes of the stored file at `path` of a version the caller may read. */
export async function streamVersionFile(
  c: Context<AppEnv>,
  deps: AppDeps,
  { version, artifact }: ResolvedVersion,
  path: string,
) {
  const entry = version.manifest.find((item) => item.path === path);
  if (!entry) throw notFound(`file '${path}' in version ${artifact.name}:v${version.index}`, "path");
  if (!("sha256" in entry))
    throw badRequest("path", `'${path}' is a reference to ${entry.uri}; its bytes are not stored here`);
  const content = await deps.blobs.open(entry.sha256);
  if (!content) throw notFound(`blob ${entry.sha256}`, "path");
  c.header("content-type", "application/octet-stream");
  c.header("content-length", String(entry.size));
  c.header("x-content-sha256", entry.sha256);
  return stream(c, async (out) => {
    for await (const chunk of content as Readable) await out.write(chunk as Uint8Array);
  });
}

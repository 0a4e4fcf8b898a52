import { pipeline, Readable, Transform } from "node:stream";
import type { DirectDownload, VersionRunsQuery } from "@pedigree/protocol";
import type { Context } from "hono";
import { directUploadsFor, stageInlineBlobs } from "../artifacts/blobs";
import { deleteVersions } from "../artifacts/deletion";
import { getVersionDetails, listVersionRuns } from "../artifacts/details";
import { findVersionFile, type StoredFile } from "../artifacts/files";
import { resolveRef } from "../artifacts/refs";
import { updateVersionTtl } from "../artifacts/retention";
import { commitVersion, createVersion } from "../artifacts/versions";
import type { AppDeps, AppEnv } from "../context";
import { notFound } from "../errors";
import { projectVisibility } from "../lineage/visibility";
import { keepingOnlyRecorded } from "../storage/stored-blobs";
import type { RouteHandlers } from "./register-route";
import { deleteContext, writeContext } from "./request";

/**
 * /api/v1/projects/:project/versions: two-phase logging, resolution of refs, details, file downloads, deletion
 * and retention.
 */
export function versionRoutes(
  deps: AppDeps,
): RouteHandlers<
  | "createVersion"
  | "commitVersion"
  | "resolveVersion"
  | "getVersion"
  | "deleteVersion"
  | "updateVersion"
  | "listVersionConsumers"
  | "listVersionProducers"
  | "downloadFile"
> {
  const details = (c: Context<AppEnv>, project: string, ref: string) =>
    deps.db.read(async (db) => {
      const visibility = await projectVisibility(db, c.get("actor"));
      return getVersionDetails(
        db,
        await resolveRef(db, project, ref, { ...visibility, tombstones: "allow" }),
        visibility,
      );
    });
  const versionRuns = (
    c: Context<AppEnv>,
    project: string,
    versionId: string,
    relation: "consumers" | "producers",
    query: VersionRunsQuery,
  ) =>
    deps.db.read(async (db) => {
      const visibility = await projectVisibility(db, c.get("actor"));
      const resolved = await resolveRef(db, project, versionId, visibility);
      return listVersionRuns(db, resolved, relation, query, visibility);
    });

  return {
    createVersion: async (c, { body: { inlineBlobs, ...body } }) => {
      const staged = inlineBlobs ? await stageInlineBlobs(deps.blobs, body.manifest, inlineBlobs) : [];
      const inline = { store: deps.blobs, staged };
      const created = await keepingOnlyRecorded(deps.db, deps.blobs, staged, () =>
        deps.db.transaction((tx) => createVersion(tx, writeContext(c, deps), body, inline)),
      );
      if (created.missingBlobs.length === 0) return c.json(created, 201);
      const directUploads = await directUploadsFor(
        deps.blobs,
        body.manifest,
        created.missingBlobs,
        c.get("actor").userId,
      );
      return c.json(directUploads?.length ? { ...created, directUploads } : created, 202);
    },
    commitVersion: async (c, { params: { versionId }, body }) =>
      c.json(await deps.db.transaction((tx) => commitVersion(tx, writeContext(c, deps), versionId, body))),
    resolveVersion: async (c, { params: { project }, query: { ref } }) => c.json(await details(c, project, ref)),
    getVersion: async (c, { params: { project, versionId } }) => c.json(await details(c, project, versionId)),
    deleteVersion: async (c, { params: { versionId }, query: { unlink } }) => {
      const ctx = deleteContext(c, deps);
      return c.json(await deps.db.transaction((tx) => deleteVersions(tx, ctx, { versionId }, { unlink })));
    },
    updateVersion: async (c, { params: { versionId }, body: { ttl } }) => {
      const ctx = deleteContext(c, deps);
      return c.json(await deps.db.transaction((tx) => updateVersionTtl(tx, ctx, versionId, ttl)));
    },
    listVersionConsumers: async (c, { params: { project, versionId }, query }) =>
      c.json(await versionRuns(c, project, versionId, "consumers", query)),
    listVersionProducers: async (c, { params: { project, versionId }, query }) =>
      c.json(await versionRuns(c, project, versionId, "producers", query)),
    downloadFile: async (c, { params: { project, versionId }, query: { path, direct } }) => {
      const file = await deps.db.read((db) => findVersionFile(db, project, versionId, path));
      return answerStoredFile(c, deps, file, direct ?? false);
    },
  };
}

/**
 * Answers a stored file: where to fetch it straight from the store, when the client asks (`direct`) and the file
 * is large enough on a store with presigned URLs; otherwise its bytes, streamed as the client reads them.
 */
export async function answerStoredFile(c: Context<AppEnv>, deps: AppDeps, file: StoredFile, direct: boolean) {
  const transfers = deps.blobs.direct;
  if (direct && transfers && file.size >= transfers.minBytes) {
    const { url, expiresAt } = await transfers.downloadUrl(file.sha256);
    const answer: DirectDownload = { url, sha256: file.sha256, size: file.size, expiresAt: expiresAt.toISOString() };
    return c.json(answer);
  }
  const content = await deps.blobs.open(file.sha256);
  if (!content) throw notFound(`blob ${file.sha256}`, "path");
  // A client that goes away cancels the read (and closes the file).
  return c.body(Readable.toWeb(exactly(file.size, content)) as ReadableStream, 200, {
    "content-type": "application/octet-stream",
    "content-length": String(file.size),
    "x-content-sha256": file.sha256,
  });
}

/**
 * `content`, failing (so the connection is cut, not left waiting) when it is not `size` bytes long: the answer
 * promised that many in its content-length.
 */
function exactly(size: number, content: Readable): Readable {
  let sent = 0;
  const wrong = () => new Error(`the stored blob is not ${size} bytes long`);
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      done(sent > size ? wrong() : null, chunk);
    },
    flush(done) {
      done(sent === size ? null : wrong());
    },
  });
  return pipeline(content, counted, () => {});
}

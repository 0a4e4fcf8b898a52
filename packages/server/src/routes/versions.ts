import { pipeline, Readable, Transform } from "node:stream";
import {
  CommitVersionBody,
  CreateVersionBody,
  DeleteVersionQuery,
  type DirectDownload,
  ResolveVersionQuery,
  UpdateVersionBody,
  VersionFileQuery,
  VersionId,
  VersionRunsQuery,
} from "@pedigree/protocol";
import { type Context, Hono } from "hono";
import { directUploadsFor, stageInlineBlobs } from "../artifacts/blobs";
import { deleteVersions } from "../artifacts/deletion";
import { getVersionDetails, listVersionRuns } from "../artifacts/details";
import { findVersionFile, type StoredFile } from "../artifacts/files";
import { resolveRef } from "../artifacts/refs";
import { updateVersionTtl } from "../artifacts/retention";
import { commitVersion, createVersion } from "../artifacts/versions";
import type { AppDeps, AppEnv } from "../context";
import { notFound, parseInput } from "../errors";
import { projectVisibility } from "../lineage/visibility";
import { keepingOnlyRecorded } from "../storage/stored-blobs";
import { deleteContext, jsonBody, projectOf, queryOf, writeContext } from "./request";

/**
 * /api/v1/projects/:project/versions: two-phase logging, resolution of refs, details, file downloads, deletion
 * and retention.
 */
export function versionRoutes(deps: AppDeps) {
  const versionIdOf = (param: string | undefined) => parseInput(VersionId, param, "versionId");
  const details = (c: Context<AppEnv>, ref: string) =>
    deps.db.read(async (db) => {
      const visibility = await projectVisibility(db, c.get("actor"));
      return getVersionDetails(
        db,
        await resolveRef(db, projectOf(c), ref, { ...visibility, tombstones: "allow" }),
        visibility,
      );
    });

  return new Hono<AppEnv>()
    .post("/", async (c) => {
      const { inlineBlobs, ...body } = await jsonBody(c, CreateVersionBody);
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
    })
    .post("/:versionId/commit", async (c) => {
      const versionId = versionIdOf(c.req.param("versionId"));
      const body = await jsonBody(c, CommitVersionBody);
      return c.json(await deps.db.transaction((tx) => commitVersion(tx, writeContext(c, deps), versionId, body)));
    })
    .get("/", async (c) => c.json(await details(c, queryOf(c, ResolveVersionQuery).ref)))
    .get("/:versionId", async (c) => c.json(await details(c, versionIdOf(c.req.param("versionId")))))
    .delete("/:versionId", async (c) => {
      const versionId = versionIdOf(c.req.param("versionId"));
      const { unlink } = queryOf(c, DeleteVersionQuery);
      const ctx = deleteContext(c, deps);
      return c.json(await deps.db.transaction((tx) => deleteVersions(tx, ctx, { versionId }, { unlink })));
    })
    .patch("/:versionId", async (c) => {
      const versionId = versionIdOf(c.req.param("versionId"));
      const { ttl } = await jsonBody(c, UpdateVersionBody);
      const ctx = deleteContext(c, deps);
      return c.json(await deps.db.transaction((tx) => updateVersionTtl(tx, ctx, versionId, ttl)));
    })
    .get("/:versionId/:relation{consumers|producers}", async (c) => {
      const versionId = versionIdOf(c.req.param("versionId"));
      const relation = c.req.param("relation") as "consumers" | "producers";
      const query = queryOf(c, VersionRunsQuery);
      return c.json(
        await deps.db.read(async (db) => {
          const visibility = await projectVisibility(db, c.get("actor"));
          const resolved = await resolveRef(db, projectOf(c), versionId, visibility);
          return listVersionRuns(db, resolved, relation, query, visibility);
        }),
      );
    })
    .get("/:versionId/files", async (c) => {
      const versionId = versionIdOf(c.req.param("versionId"));
      const { path, direct } = queryOf(c, VersionFileQuery);
      const file = await deps.db.read((db) => findVersionFile(db, projectOf(c), versionId, path));
      return answerStoredFile(c, deps, file, direct ?? false);
    });
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

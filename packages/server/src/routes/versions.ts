import { pipeline, Readable, Transform } from "node:stream";
import {
  CommitVersionBody,
  CreateVersionBody,
  ResolveVersionQuery,
  VersionFileQuery,
  VersionId,
  VersionRunsQuery,
} from "@pedigree/protocol";
import { type Context, Hono } from "hono";
import { stageInlineBlobs } from "../artifacts/blobs";
import { getVersionDetails, listVersionRuns } from "../artifacts/details";
import { findVersionFile, type StoredFile } from "../artifacts/files";
import { resolveRef } from "../artifacts/refs";
import { commitVersion, createVersion } from "../artifacts/versions";
import type { AppDeps, AppEnv } from "../context";
import { notFound, parseInput } from "../errors";
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
      const { path } = queryOf(c, VersionFileQuery);
      const file = await deps.db.read((db) => findVersionFile(db, projectOf(c), versionId, path));
      return streamStoredFile(c, deps, file);
    });
}

/** Answers the bytes of a stored file, streamed as the client reads them. */
export async function streamStoredFile(c: Context<AppEnv>, deps: AppDeps, file: StoredFile) {
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

import { pipeline, Readable, Transform } from "node:stream";
import { CommitVersionBody, CreateVersionBody, isSafeRelativePath, Limits, Ref, VersionId } from "@pedigree/protocol";
import { Hono } from "hono";
import { z } from "zod";
import { recordBlobs, storeInlineBlobs } from "../artifacts/blobs";
import { getVersionDetails } from "../artifacts/details";
import { findVersionFile } from "../artifacts/files";
import { resolveRef } from "../artifacts/refs";
import { commitVersion, createVersion } from "../artifacts/versions";
import type { AppDeps, AppEnv } from "../context";
import { notFound, parseInput } from "../errors";
import { jsonBody, projectOf, queryOf, writeContext } from "./request";

const ResolveQuery = z.object({ ref: Ref });
const FileQuery = z.object({
  path: z
    .string()
    .min(1)
    .max(Limits.maxPathLength)
    .refine(isSafeRelativePath, "paths are relative, '/'-separated, without '..', '.', empty segments or NUL"),
});

/** /api/v1/projects/:project/versions: two-phase logging, resolution of refs, details and file downloads. */
export function versionRoutes(deps: AppDeps) {
  const versionIdOf = (param: string | undefined) => parseInput(VersionId, param, "versionId");
  const details = (project: string, ref: string) =>
    deps.db.read(async (db) => getVersionDetails(db, await resolveRef(db, project, ref)));

  return new Hono<AppEnv>()
    .post("/", async (c) => {
      const { inlineBlobs, ...body } = await jsonBody(c, CreateVersionBody);
      const inlined = inlineBlobs ? await storeInlineBlobs(deps.blobs, body.manifest, inlineBlobs) : [];
      const created = await deps.db.transaction(async (tx) => {
        await recordBlobs(tx, inlined);
        return createVersion(tx, writeContext(c, deps), body, new Set(inlined.map((blob) => blob.sha256)));
      });
      return c.json(created, created.missingBlobs.length > 0 ? 202 : 201);
    })
    .post("/:versionId/commit", async (c) => {
      const versionId = versionIdOf(c.req.param("versionId"));
      const body = await jsonBody(c, CommitVersionBody);
      return c.json(await deps.db.transaction((tx) => commitVersion(tx, writeContext(c, deps), versionId, body)));
    })
    .get("/", async (c) => c.json(await details(projectOf(c), queryOf(c, ResolveQuery).ref)))
    .get("/:versionId", async (c) => c.json(await details(projectOf(c), versionIdOf(c.req.param("versionId")))))
    .get("/:versionId/files", async (c) => {
      const versionId = versionIdOf(c.req.param("versionId"));
      const { path } = queryOf(c, FileQuery);
      const file = await deps.db.read((db) => findVersionFile(db, projectOf(c), versionId, path));
      const content = await deps.blobs.open(file.sha256);
      if (!content) throw notFound(`blob ${file.sha256}`, "path");
      // The file streams as the client reads it; a client that goes away cancels the read (and closes the file).
      return c.body(Readable.toWeb(exactly(file.size, content)) as ReadableStream, 200, {
        "content-type": "application/octet-stream",
        "content-length": String(file.size),
        "x-content-sha256": file.sha256,
      });
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

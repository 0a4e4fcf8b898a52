import { Readable } from "node:stream";
import { stageDirectUpload, stageUpload } from "../artifacts/blobs";
import type { AppDeps } from "../context";
import { ApiError, badRequest, notFound } from "../errors";
import { keepingOnlyRecorded, recordUploads, uploadedSize } from "../storage/stored-blobs";
import type { StagedBlob } from "../store/blob-store";
import type { RouteHandlers } from "./register-route";

/**
 * /api/v1/blobs/:sha256: content-addressed uploads, and the uploader's proof of possession. The body streams to
 * disk while it is hashed, whether or not the server holds the blob already, and the answer is the same either
 * way (201): an upload neither skips the bytes nor tells whether anyone else stored them. Bytes whose sha256 is
 * not the one named are refused and nothing is kept. Downloads go through a version (project-scoped), never
 * through a bare sha256.
 *
 * `POST /:sha256/direct` finishes a direct upload (a `DirectUpload` of the create-version answer: the bytes went
 * straight to the store): the server verifies their sha256 before they are stored and count as this user's
 * proof of possession, exactly as if they had come through `PUT`.
 */
export function blobRoutes(deps: AppDeps): RouteHandlers<"uploadBlob" | "completeDirectUpload"> {
  return {
    uploadBlob: async (c, { params: { sha256 } }) => {
      const actor = c.get("actor");
      const body = c.req.raw.body;
      if (!body) throw badRequest("body", "send the file's bytes as the request body");
      let staged: StagedBlob;
      try {
        staged = await stageUpload(deps.blobs, sha256, Readable.fromWeb(body as never), deps.config.maxBlobBytes);
      } catch (error) {
        // The client went away mid-upload: the store kept nothing, and nobody is left to answer.
        if (c.req.raw.signal.aborted || (error instanceof Error && error.message === "aborted"))
          throw badRequest("body", "the upload was cut before its end; nothing was kept");
        throw error;
      }
      await keepingOnlyRecorded(deps.db, deps.blobs, [staged], () =>
        deps.db.transaction((tx) => recordUploads(tx, deps.blobs, [staged], actor.userId)),
      );
      return c.json({ sha256, size: staged.size }, 201);
    },
    completeDirectUpload: async (c, { params: { sha256 }, body: { upload } }) => {
      const actor = c.get("actor");
      const direct = deps.blobs.direct;
      if (!direct) throw notFound("direct uploads (this server's blob store has none)", "upload");
      let staged: StagedBlob;
      try {
        staged = await stageDirectUpload(direct, sha256, upload, actor.userId, deps.config.maxBlobBytes);
      } catch (error) {
        // Sent again after a lost answer: the first one verified, recorded and removed the upload. The answer
        // tells this user only what it proved itself.
        const size =
          error instanceof ApiError && error.code === "NOT_FOUND"
            ? await deps.db.read((db) => uploadedSize(db, sha256, actor.userId))
            : null;
        if (size === null) throw error;
        return c.json({ sha256, size }, 201);
      }
      await keepingOnlyRecorded(deps.db, deps.blobs, [staged], () =>
        deps.db.transaction((tx) => recordUploads(tx, deps.blobs, [staged], actor.userId)),
      );
      return c.json({ sha256, size: staged.size }, 201);
    },
  };
}

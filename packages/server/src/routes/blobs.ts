import { Readable } from "node:stream";
import { recordBlobs, storeBlob } from "../artifacts/blobs";
import type { AppDeps } from "../context";
import { badRequest } from "../errors";
import type { RouteHandlers } from "./register-route";

/**
 * /api/v1/blobs/:sha256: content-addressed uploads. The body streams to disk while it is hashed; bytes
 * whose sha256 is not the one named are refused and nothing is kept. Downloads go through a version
 * (project-scoped), never through a bare sha256.
 */
export function blobRoutes(deps: AppDeps): RouteHandlers<"uploadBlob"> {
  return {
    uploadBlob: async (c, { params: { sha256 } }) => {
      const body = c.req.raw.body;
      if (!body) throw badRequest("body", "send the file's bytes as the request body");
      let stored: { size: number; created: boolean };
      try {
        stored = await storeBlob(deps.blobs, sha256, Readable.fromWeb(body as never), deps.config.maxBlobBytes);
      } catch (error) {
        // The client went away mid-upload: the store kept nothing, and nobody is left to answer.
        if (c.req.raw.signal.aborted || (error instanceof Error && error.message === "aborted"))
          throw badRequest("body", "the upload was cut before its end; nothing was kept");
        throw error;
      }
      // Recorded even when the bytes were already stored: an earlier request may have stored them and then failed.
      await deps.db.transaction((tx) => recordBlobs(tx, [{ sha256, size: stored.size }]));
      return c.json({ sha256, size: stored.size, created: stored.created }, stored.created ? 201 : 200);
    },
  };
}

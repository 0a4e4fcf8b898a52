import { Readable } from "node:stream";
import { Sha256 } from "@pedigree/protocol";
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../context";
import { blobs } from "../db/schema";
import { ApiError, badRequest, parseInput } from "../errors";
import { BlobRejected } from "../store/blob-store";

/**
 * /api/v1/blobs/:sha256: content-addressed uploads. The body streams to disk while it is hashed; bytes
 * whose sha256 is not the one named are refused and nothing is kept. Downloads go through a version
 * (project-scoped), never through a bare sha256.
 */
export function blobRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().put("/:sha256", async (c) => {
    const sha256 = parseInput(Sha256, c.req.param("sha256"), "sha256");
    const body = c.req.raw.body;
    if (!body) throw badRequest("body", "send the file's bytes as the request body");
    let stored: { size: number; created: boolean };
    try {
      stored = await deps.blobs.put(sha256, Readable.fromWeb(body as never), deps.config.maxBlobBytes);
    } catch (error) {
      if (error instanceof BlobRejected && error.reason === "too_large")
        throw new ApiError("PAYLOAD_TOO_LARGE", error.message, "body");
      if (error instanceof BlobRejected) throw badRequest("sha256", error.message);
      // The client went away mid-upload: the store kept nothing, and nobody is left to answer.
      if (c.req.raw.signal.aborted || (error instanceof Error && error.message === "aborted"))
        throw badRequest("body", "the upload was cut before its end; nothing was kept");
      throw error;
    }
    // Recorded even when the file was there already: a crash between the rename and this insert must not
    // leave a stored blob that commits can never see.
    await deps.db.transaction((tx) => tx.insert(blobs).values({ sha256, size: stored.size }).onConflictDoNothing());
    return c.json({ sha256, size: stored.size, created: stored.created }, stored.created ? 201 : 200);
  });
}

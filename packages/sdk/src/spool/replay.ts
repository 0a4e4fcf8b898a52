import { readFile } from "node:fs/promises";
import { Limits, type RunSummary, type VersionContents, type VersionSummary } from "@pedigree/protocol";
import type { ContentSource } from "../artifact";
import type { HttpClient } from "../client";
import { PedigreeError } from "../errors";
import { downloadFile, type ProgressCallback, uploadBlobs } from "../transfer";
import type { RejectedEntry, RunSpoolMeta, SpooledOp } from "./spool-log";

export type OpResult = RunSummary | VersionContents | VersionSummary | null;

/** Sends one spooled op. Every op is idempotent on the server, so sending it again after a lost answer is safe. */
export async function sendOp(
  client: HttpClient,
  meta: RunSpoolMeta,
  op: SpooledOp,
  onProgress?: ProgressCallback,
): Promise<OpResult> {
  const run = { project: meta.project, runId: meta.runId };
  switch (op.kind) {
    case "createRun":
      return client.call("createRun", { params: { project: meta.project }, body: op.body });
    case "useArtifact":
      return client.call("useArtifact", { params: run, body: op.body });
    case "updateRun":
      await client.call("updateRun", { params: run, body: op.body });
      return null;
    case "logArtifact":
      return sendVersion(client, meta, op, onProgress);
  }
}

async function sendVersion(
  client: HttpClient,
  meta: RunSpoolMeta,
  op: Extract<SpooledOp, { kind: "logArtifact" }>,
  onProgress?: ProgressCallback,
) {
  const created = await client.call("createVersion", {
    params: { project: meta.project },
    body: { ...op.body, inlineBlobs: await inlineContents(op) },
  });
  if (created.missingBlobs.length === 0) return created.version;
  const pathOf = new Map(
    op.body.manifest.flatMap((entry) => ("sha256" in entry ? [[entry.sha256, entry.path] as const] : [])),
  );
  const uploads = [];
  for (const sha256 of created.missingBlobs) {
    const localPath = op.files[sha256] ?? (await fetchedFromSource(client, op.sources?.[sha256]));
    if (!localPath) throw new Error(`the server asks for ${sha256}, which the spooled artifact has no file for`);
    uploads.push({ sha256, localPath, path: pathOf.get(sha256) ?? sha256 });
  }
  await uploadBlobs(client, uploads, onProgress, created.directUploads);
  return client.call("commitVersion", {
    params: { project: meta.project, versionId: created.version.id },
    body: { runId: op.body.runId, aliases: op.body.aliases ?? [] },
  });
}

/**
 * A draft's file held by reference, which the server asks for because the writer cannot read the version it came
 * from in its project (it read it through a registry): fetched into the cache, verified, and uploaded from there.
 */
async function fetchedFromSource(client: HttpClient, source: ContentSource | undefined): Promise<string | undefined> {
  if (!source) return undefined;
  const { blobCacheOf } = await import("../cache/blob-cache");
  return blobCacheOf(client.settings).obtain(source.entry, (into) =>
    downloadFile(client, source.files, source.entry, into),
  );
}

/** Small files travel with the manifest (one request); the server verifies each by its sha256. */
async function inlineContents(op: Extract<SpooledOp, { kind: "logArtifact" }>) {
  const small = op.body.manifest.flatMap((entry) =>
    "sha256" in entry && entry.size <= Limits.maxInlineBlobBytes && op.files[entry.sha256] ? [entry] : [],
  );
  const total = small.reduce((sum, entry) => sum + entry.size, 0);
  if (small.length === 0 || small.length > 1000 || total > Limits.maxInlineTotalBytes) return undefined;
  const contents: Record<string, string> = {};
  for (const entry of small) {
    const bytes = await readFile(op.files[entry.sha256] as string).catch(() => null);
    if (bytes) contents[entry.sha256] = bytes.toString("base64");
  }
  return contents;
}

/**
 * What to do with a write that failed:
 * - `unreachable`: no answer (the circuit is open); it stays queued until the server is back.
 * - `later`: 429, 408, or a 503 with Retry-After; it stays queued and is sent again after `delayMs`.
 * - `auth`: the server refused the key (401); it stays queued for a `sync` with a good key.
 * - `park`: 5xx after the client's retries; parked in rejected.jsonl, later writes go on.
 * - `refused`: any other 4xx (403 too); the server would refuse it again.
 */
export type FailureKind = "unreachable" | "later" | "auth" | "park" | "refused";

export function failureKind(error: unknown): FailureKind {
  if (!(error instanceof PedigreeError)) return "park";
  const { code, status } = error;
  if (code === "NETWORK" || status === undefined) return "unreachable";
  if (status === 401) return "auth";
  if (error.retryAfterMs !== undefined || status === 408 || status === 429) return "later";
  return status >= 500 ? "park" : "refused";
}

/** The answer kept beside a parked write. */
export function parkedAnswer(error: unknown) {
  return error instanceof PedigreeError
    ? {
        reason: error.message.startsWith("the server answered") ? error.message : `${error.code}: ${error.message}`,
        status: error.status,
      }
    : { reason: String(error), status: undefined };
}

/**
 * The parked write `op` must wait behind, if any. Order is kept where a write needs an earlier one: every later
 * write of a run needs its parked creation, and the run's final state waits behind its parked inputs and outputs
 * (so they can still be recorded: a finished run takes no new edges). Other writes go on past a parked one.
 */
export function blockerOf(op: SpooledOp, parked: readonly RejectedEntry[]): RejectedEntry | undefined {
  const waiting = parked.filter((entry) => entry.heldBehind !== undefined || (entry.status ?? 500) >= 500);
  const creation = waiting.find((entry) => entry.op.kind === "createRun");
  if (creation) return creation;
  const ends = op.kind === "updateRun" && op.body.state !== undefined && op.body.state !== "running";
  return ends ? waiting.find((entry) => entry.op.kind === "useArtifact" || entry.op.kind === "logArtifact") : undefined;
}

import { readFile } from "node:fs/promises";
import { CreateVersionResponse, Limits, RunSummary, VersionContents, VersionSummary } from "@pedigree/protocol";
import type { HttpClient } from "../client";
import type { PedigreeError } from "../errors";
import { type ProgressCallback, uploadBlobs } from "../transfer";
import type { RunSpoolMeta, SpooledOp } from "./spool-log";

export type OpResult = RunSummary | VersionContents | VersionSummary | null;

/** Sends one spooled op. Every op is idempotent on the server, so sending it again after a lost answer is safe. */
export async function sendOp(
  client: HttpClient,
  meta: RunSpoolMeta,
  op: SpooledOp,
  onProgress?: ProgressCallback,
): Promise<OpResult> {
  const runPath = `projects/${meta.project}/runs/${meta.runId}`;
  switch (op.kind) {
    case "createRun":
      return client.request("POST", `projects/${meta.project}/runs`, RunSummary, { json: op.body });
    case "useArtifact":
      return client.request("POST", `${runPath}/inputs`, VersionContents, { json: op.body });
    case "updateRun":
      await client.requestVoid("PATCH", runPath, { json: op.body });
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
  const created = await client.request("POST", `projects/${meta.project}/versions`, CreateVersionResponse, {
    json: { ...op.body, inlineBlobs: await inlineContents(op) },
  });
  if (created.missingBlobs.length === 0) return created.version;
  const pathOf = new Map(
    op.body.manifest.flatMap((entry) => ("sha256" in entry ? [[entry.sha256, entry.path] as const] : [])),
  );
  const uploads = created.missingBlobs.map((sha256) => {
    const localPath = op.files[sha256];
    if (!localPath) throw new Error(`the server asks for ${sha256}, which the spooled artifact has no file for`);
    return { sha256, localPath, path: pathOf.get(sha256) ?? sha256 };
  });
  await uploadBlobs(client, uploads, onProgress);
  return client.request("POST", `projects/${meta.project}/versions/${created.version.id}/commit`, VersionSummary, {
    json: { runId: op.body.runId, aliases: op.body.aliases ?? [] },
  });
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
 * Worth sending again later: network trouble, timeouts, 5xx, 429, and a key the server refuses (401/403: the
 * user can fix the key and sync). Anything else the server would refuse again.
 */
export function isTransient(error: PedigreeError | Error): boolean {
  const { code, status } = error as PedigreeError;
  if (code === "NETWORK") return true;
  return status === undefined ? false : status >= 500 || [401, 403, 408, 429].includes(status);
}

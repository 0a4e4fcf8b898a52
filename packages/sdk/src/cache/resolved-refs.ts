import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { VersionContents } from "@pedigree/protocol";
import { z } from "zod";

/**
 * What a ref resolved to on this machine, for `useArtifact` while the server is unreachable:
 * `<pedigreeDir>/cache/refs/<key>.json`, one small file per (server URL, project, ref), holding the version's
 * contents (manifest, metadata) and when it was resolved. Written to a file of its own and renamed into place,
 * so two processes resolving the same ref leave one whole record (the later one).
 */
export const ResolvedRef = z.object({
  baseUrl: z.string(),
  project: z.string(),
  ref: z.string(),
  resolvedAt: z.string(),
  version: VersionContents,
  via: z.object({ registry: z.string(), collection: z.string() }).optional(),
});
export type ResolvedRef = z.infer<typeof ResolvedRef>;

const refsDir = (pedigreeDir: string) => join(pedigreeDir, "cache", "refs");

function recordPath(pedigreeDir: string, key: Pick<ResolvedRef, "baseUrl" | "project" | "ref">): string {
  const name = createHash("sha256")
    .update(JSON.stringify([key.baseUrl, key.project, key.ref]))
    .digest("hex");
  return join(refsDir(pedigreeDir), `${name}.json`);
}

export async function recordResolvedRef(pedigreeDir: string, record: ResolvedRef): Promise<void> {
  const path = recordPath(pedigreeDir, record);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await mkdir(refsDir(pedigreeDir), { recursive: true });
  try {
    await writeFile(tmp, JSON.stringify(record));
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** The last resolution of `ref` on this machine, or undefined (never resolved, or a record this SDK cannot read). */
export async function lastResolution(
  pedigreeDir: string,
  key: Pick<ResolvedRef, "baseUrl" | "project" | "ref">,
): Promise<ResolvedRef | undefined> {
  const text = await readFile(recordPath(pedigreeDir, key), "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const record = ResolvedRef.parse(JSON.parse(text));
    const same = record.baseUrl === key.baseUrl && record.project === key.project && record.ref === key.ref;
    return same ? record : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How OpenLineage identities become Pedigree names, deterministically (docs/openlineage.md): the same
 * dataset, run or dataset version always maps to the same artifact name, run id or digest, on every server.
 */
import { createHash } from "node:crypto";

const sha256 = (text: string) => createHash("sha256").update(text).digest();

/**
 * An artifact name for a dataset: a readable slug of its name (the table or path's tail) and 10 hex digits
 * of a hash of namespace and name, so `gs://a` + `x.csv` and `gs://b` + `x.csv` stay apart.
 * Fits `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`.
 */
export function datasetArtifactName(namespace: string, name: string): string {
  const hash = sha256(`${namespace}\n${name}`).toString("hex").slice(0, 10);
  const slug = name
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .slice(-100)
    .replace(/^[._-]+/, "")
    .replace(/[._-]+$/, "");
  return `${slug || "dataset"}-${hash}`;
}

/** The Pedigree run id (8 of `[a-z0-9]`) of an OpenLineage runId posted to `project`. */
export function pedigreeRunIdOf(project: string, openlineageRunId: string): string {
  const digest = sha256(`openlineage-run\n${project}\n${openlineageRunId.toLowerCase()}`);
  let id = "";
  for (const byte of digest.subarray(0, 8)) id += "abcdefghijklmnopqrstuvwxyz0123456789"[byte % 36];
  return id;
}

/** The digest of an OpenLineage dataset version: what names it (`datasetVersion`, writing run, first sight). */
export function datasetVersionDigest(namespace: string, name: string, key: string): string {
  return sha256(`openlineage-version\n${namespace}\n${name}\n${key}`).toString("hex");
}

/** A UUID (version 8, name-based) standing for something Pedigree names otherwise: a run, a job. */
export function derivedUuid(seed: string): string {
  const bytes = sha256(seed).subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The namespace Pedigree's own runs and artifacts carry when exported: `pedigree://<project>`. */
export const pedigreeNamespace = (project: string) => `pedigree://${project}`;

/** A job type Pedigree accepts (`[A-Za-z0-9][A-Za-z0-9._-]{0,63}`) from the jobType facet, or `openlineage`. */
export function jobTypeOf(facet: { jobType?: string | undefined; integration?: string } | undefined): string {
  const raw = (facet?.jobType ?? facet?.integration ?? "").toLowerCase();
  const cleaned = raw
    .replace(/[^a-z0-9._-]+/g, "_")
    .replace(/^[._-]+/, "")
    .slice(0, 64);
  return cleaned || "openlineage";
}

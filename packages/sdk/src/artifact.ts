import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { basename, join, relative, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import {
  ArtifactName,
  ArtifactType,
  isSafeRelativePath,
  Manifest,
  type ManifestEntry,
  type StoredEntry,
} from "@pedigree/protocol";
import { ValidationError } from "./errors";
import type { VersionFiles } from "./version-files";

export interface ArtifactInit {
  name: string;
  type: string;
  description?: string;
  metadata?: Record<string, unknown>;
  /** Made by the system rather than the user (a code snapshot, a table export); hidden in lineage by default. */
  generated?: boolean;
}

/** Where a draft's file held by reference can be fetched: the files of the version it came from. */
export interface ContentSource {
  files: VersionFiles;
  entry: StoredEntry;
}

/**
 * A version being put together on the client: files (hashed as they are added) and references. Nothing is
 * sent until `run.logArtifact(artifact)`.
 */
export class Artifact {
  readonly name: string;
  readonly type: string;
  description: string | undefined;
  metadata: Record<string, unknown>;
  generated: boolean;
  private readonly entries = new Map<string, ManifestEntry>();
  /** sha256 → a local file with that content, for upload. */
  private readonly localFilesBySha = new Map<string, string>();
  /** sha256 → the version a draft's file came from, for a server that asks for its bytes. */
  private readonly sourcesBySha = new Map<string, ContentSource>();

  constructor(init: ArtifactInit) {
    this.name = checked(ArtifactName, init.name, "name");
    this.type = checked(ArtifactType, init.type, "type");
    this.description = init.description;
    this.metadata = init.metadata ?? {};
    this.generated = init.generated ?? false;
  }

  /**
   * A draft holding `manifest` by reference (see `ArtifactVersion.newDraft`): its stored files name content the
   * server has, so they have no local file and are not uploaded.
   */
  static fromVersion(init: ArtifactInit & { manifest: readonly ManifestEntry[]; files: VersionFiles }): Artifact {
    const { manifest, files, ...rest } = init;
    const draft = new Artifact(rest);
    for (const entry of manifest) {
      draft.entries.set(entry.path, { ...entry });
      if ("sha256" in entry) draft.sourcesBySha.set(entry.sha256, { files, entry: { ...entry } });
    }
    return draft;
  }

  /** Adds one file, stored in the artifact as `name` (default: its base name). */
  async addFile(localPath: string, options: { name?: string } = {}): Promise<ManifestEntry> {
    const info = await stat(localPath);
    if (!info.isFile()) throw new ValidationError("BAD_REQUEST", `${localPath} is not a file`, undefined, "path");
    const path = this.checkedPath(options.name ?? basename(localPath));
    const sha256 = await sha256File(localPath);
    const entry = { path, sha256, size: info.size };
    this.entries.set(path, entry);
    this.localFilesBySha.set(sha256, localPath);
    return entry;
  }

  /** Adds every file below `dir`, at its relative path, under the prefix `name` when given. */
  async addDir(dir: string, options: { name?: string } = {}): Promise<ManifestEntry[]> {
    const files = await listFiles(dir);
    const added: ManifestEntry[] = [];
    for (const file of files) {
      const relativePath = relative(dir, file).split(sep).join("/");
      added.push(await this.addFile(file, { name: options.name ? `${options.name}/${relativePath}` : relativePath }));
    }
    return added;
  }

  /** Records a file kept in outside storage (`s3://`, `gs://`, `https://`, `file://`); its bytes are not uploaded. */
  addReference(uri: string, options: { name?: string; checksum?: string; size?: number } = {}): ManifestEntry {
    const path = this.checkedPath(options.name ?? (basename(new URL(uri).pathname) || "reference"));
    const entry: ManifestEntry = {
      path,
      uri,
      ...(options.checksum !== undefined ? { checksum: options.checksum } : {}),
      ...(options.size !== undefined ? { size: options.size } : {}),
    };
    this.entries.set(path, entry);
    return entry;
  }

  /**
   * Removes the file or reference at `path`, or every entry below `path/`; answers the entries removed (none
   * when nothing is there).
   */
  remove(path: string): ManifestEntry[] {
    const prefix = `${path.replace(/\/+$/, "")}/`;
    const removed = [...this.entries.values()].filter((entry) => entry.path === path || entry.path.startsWith(prefix));
    for (const entry of removed) this.entries.delete(entry.path);
    // A local file stays for upload while another entry still holds its content.
    const held = new Set(this.manifest.flatMap((entry) => ("sha256" in entry ? [entry.sha256] : [])));
    for (const sha256 of this.localFilesBySha.keys()) if (!held.has(sha256)) this.localFilesBySha.delete(sha256);
    return removed;
  }

  get manifest(): ManifestEntry[] {
    return [...this.entries.values()];
  }

  /** sha256 → the local file holding that content, for upload. */
  localFiles(): Record<string, string> {
    return Object.fromEntries(this.localFilesBySha);
  }

  /**
   * sha256 → where a file held by reference (a draft's) can be fetched, for the content that has no local file.
   * The server asks for such bytes only when the writer cannot read the version they came from in its project
   * (a draft of a version read through a registry): they are then fetched, through the cache, and uploaded.
   */
  contentSources(): Record<string, ContentSource> {
    const held = new Set(this.manifest.flatMap((entry) => ("sha256" in entry ? [entry.sha256] : [])));
    return Object.fromEntries(
      [...this.sourcesBySha].filter(([sha256]) => held.has(sha256) && !this.localFilesBySha.has(sha256)),
    );
  }

  private checkedPath(path: string): string {
    if (!isSafeRelativePath(path)) {
      throw new ValidationError(
        "BAD_REQUEST",
        `'${path}' is not a safe relative path inside an artifact`,
        undefined,
        "name",
      );
    }
    return path;
  }
}

/**
 * The manifest as the server will check it (e.g. no file `a` beside a file `a/b`), refused here with the same
 * message and field before anything is sent.
 */
export function checkedManifest(entries: ManifestEntry[]): ManifestEntry[] {
  const result = Manifest.safeParse(entries);
  if (result.success) return entries;
  const issue = result.error.issues[0];
  const field = ["manifest", ...(issue?.path ?? []).map(String)].join(".");
  throw new ValidationError("BAD_REQUEST", `${field}: ${issue?.message ?? "invalid"}`, undefined, field);
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

async function listFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listFiles(path)));
    else if (entry.isFile()) found.push(path);
  }
  return found.sort();
}

function checked(
  schema: { safeParse(value: unknown): { success: boolean; error?: { issues: { message: string }[] } } },
  value: string,
  field: string,
): string {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ValidationError(
      "BAD_REQUEST",
      `${field}: ${result.error?.issues[0]?.message ?? "invalid"}`,
      undefined,
      field,
    );
  }
  return value;
}

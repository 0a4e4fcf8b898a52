import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join, relative, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import {
  ArtifactName,
  ArtifactType,
  isSafeRelativePath,
  Limits,
  type ManifestEntry,
  type StoredEntry,
} from "@pedigree/protocol";
import { ValidationError } from "./errors";

export interface ArtifactInit {
  name: string;
  type: string;
  description?: string;
  metadata?: Record<string, unknown>;
  /** Made by the system rather than the user (a code snapshot, a table export); hidden in lineage by default. */
  generated?: boolean;
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
  private readonly localFiles = new Map<string, string>();

  constructor(init: ArtifactInit) {
    this.name = checked(ArtifactName, init.name, "name");
    this.type = checked(ArtifactType, init.type, "type");
    this.description = init.description;
    this.metadata = init.metadata ?? {};
    this.generated = init.generated ?? false;
  }

  /** Adds one file, stored in the artifact as `name` (default: its base name). */
  async addFile(localPath: string, options: { name?: string } = {}): Promise<ManifestEntry> {
    const info = await stat(localPath);
    if (!info.isFile()) throw new ValidationError("BAD_REQUEST", `${localPath} is not a file`, undefined, "path");
    const path = this.checkedPath(options.name ?? basename(localPath));
    const sha256 = await sha256File(localPath);
    const entry = { path, sha256, size: info.size };
    this.entries.set(path, entry);
    this.localFiles.set(sha256, localPath);
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

  get manifest(): ManifestEntry[] {
    return [...this.entries.values()];
  }

  /** The local file holding the content of `sha256`, for upload. */
  localFileOf(sha256: string): string | undefined {
    return this.localFiles.get(sha256);
  }

  /**
   * Contents of the small files (base64 by sha256), sent with the manifest so a small version is logged in one
   * request; undefined when there are none or they are too large together.
   */
  async smallFileContents(): Promise<Record<string, string> | undefined> {
    const small = this.manifest.filter(
      (entry): entry is StoredEntry => "sha256" in entry && entry.size <= Limits.maxInlineBlobBytes,
    );
    const total = small.reduce((sum, entry) => sum + entry.size, 0);
    if (small.length === 0 || small.length > 1000 || total > Limits.maxInlineTotalBytes) return undefined;
    const contents: Record<string, string> = {};
    for (const entry of small) {
      const localPath = this.localFiles.get(entry.sha256);
      if (localPath) contents[entry.sha256] = (await readFile(localPath)).toString("base64");
    }
    return contents;
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

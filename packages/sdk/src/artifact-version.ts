import { join, resolve } from "node:path";
import type {
  DeleteVersionsResponse,
  StoredEntry,
  VersionContents,
  VersionDetails,
  VersionRun,
  VersionSummary,
} from "@pedigree/protocol";
import { Artifact } from "./artifact";
import type { HttpClient } from "./client";
import { fetchLineage, type LineageOptions } from "./lineage";
import {
  DEFAULT_LIMIT,
  type IterateOptions,
  itemsByOffset,
  type Page,
  type PageOptions,
  type VersionRunFilters,
} from "./pages";
import type { ProgressCallback } from "./transfer";
import type { VersionFiles } from "./version-files";

/** A committed version on the server: what `useArtifact`, `logArtifact` and `pd.artifact` give back. */
export class ArtifactVersion {
  readonly id: string;
  readonly project: string;
  /** The artifact's name. */
  readonly name: string;
  readonly type: string;
  /** `vN`. */
  readonly version: string;
  readonly aliases: string[];
  readonly digest: string;
  readonly size: number;
  /** True when the version is only queued in the spool: the server has not numbered it yet. */
  readonly queued: boolean;
  /**
   * The registry collection this version was read through (a registry ref), or undefined. Its details and files
   * are then fetched through that collection, which lets a registry reader without a role in the version's
   * project read them.
   */
  readonly via: { registry: string; collection: string } | undefined;
  /**
   * True when `useArtifact` answered this version from the local cache because the server was unreachable (or
   * in offline mode): it is what the ref resolved to on this machine at `resolvedAt`; its files come from the cache.
   */
  readonly offline: boolean;
  /** When an offline answer's ref was resolved by the server (ISO 8601); undefined for an answer of the server. */
  readonly resolvedAt: string | undefined;
  private details: VersionDetails | undefined;
  private contents: VersionContents | undefined;

  constructor(
    private readonly client: HttpClient,
    summary: VersionSummary | VersionContents | VersionDetails,
    via?: { registry: string; collection: string },
    cached?: { resolvedAt: string },
  ) {
    this.via = via;
    this.offline = cached !== undefined;
    this.resolvedAt = cached?.resolvedAt;
    this.id = summary.id;
    this.project = summary.project;
    this.name = summary.artifact;
    this.type = summary.type;
    this.version = summary.version ?? "pending";
    this.aliases = summary.aliases;
    this.digest = summary.digest;
    this.size = summary.size;
    this.queued = summary.state === "pending" && summary.id === "";
    if ("manifest" in summary) this.contents = summary;
    if ("producers" in summary) this.details = summary;
  }

  /** A version waiting in the spool for the server: no id and no `vN` yet. */
  static queued(client: HttpClient, project: string, artifact: Artifact): ArtifactVersion {
    const manifest = artifact.manifest;
    return new ArtifactVersion(client, {
      id: "",
      project,
      artifact: artifact.name,
      type: artifact.type,
      version: null,
      state: "pending",
      aliases: [],
      digest: "",
      size: manifest.reduce((sum, entry) => sum + (entry.size ?? 0), 0),
      fileCount: manifest.length,
      generated: artifact.generated,
      description: artifact.description ?? null,
      createdAt: new Date().toISOString(),
      committedAt: null,
    });
  }

  /** Where this version's files are read: through the collection it was read through, else in its project. */
  private get files(): VersionFiles {
    if (!this.via) return { route: "downloadFile", params: { project: this.project, versionId: this.id } };
    const { registry, collection } = this.via;
    return { route: "downloadCollectionVersionFile", params: { registry, collection, version: this.id } };
  }

  /** `name:vN`. */
  get ref(): string {
    return `${this.name}:${this.version}`;
  }

  /**
   * Deletes this version: it becomes a tombstone (kept in the lineage graph, its files gone, downloads answer
   * 410) and loses its aliases. Allowed to project admins and to the member who logged it. A version linked in
   * a registry is refused (409) unless `unlink` is set by an admin of that registry, who unlinks it in the call.
   */
  async delete(options: { unlink?: boolean } = {}): Promise<DeleteVersionsResponse> {
    return this.client.call("deleteVersion", {
      params: { project: this.project, versionId: this.id },
      query: { unlink: options.unlink ?? false },
    });
  }

  /** Sets how long after it was logged this version expires (`"30d"`), or keeps it for good (`null`). */
  async setTtl(ttl: string | null): Promise<VersionSummary> {
    return this.client.call("updateVersion", { params: { project: this.project, versionId: this.id }, body: { ttl } });
  }

  /** The lineage graph around this version. */
  lineage(options: LineageOptions = {}) {
    return fetchLineage(this.client, this.project, this.id, options);
  }

  /** Metadata, manifest, producers, consumers and registry memberships, fetched once. */
  async fetchDetails(refresh = false): Promise<VersionDetails> {
    if (!this.details || refresh) {
      this.details = this.via
        ? await this.client.call("getCollectionVersion", {
            params: { registry: this.via.registry, collection: this.via.collection, version: this.id },
          })
        : await this.client.call("getVersion", { params: { project: this.project, versionId: this.id } });
    }
    return this.details;
  }

  async metadata(): Promise<Record<string, unknown>> {
    return (this.contents ?? (await this.fetchDetails())).metadata;
  }

  /** The runs that logged this content (one version can have several producers). */
  async loggedBy() {
    return (await this.fetchDetails(true)).producers;
  }

  /** The runs that used this version, each with the ref it asked for. */
  async usedBy() {
    return (await this.fetchDetails(true)).consumers;
  }

  /** One page of the runs that used this version, newest first, each with the ref it asked for; `q`: run name contains. */
  async consumers(options: VersionRunFilters & PageOptions = {}): Promise<Page<VersionRun>> {
    return this.versionRuns("listVersionConsumers", options);
  }

  /** One page of the runs that logged this content, the first to log it first; `q`: run name contains. */
  async producers(options: VersionRunFilters & PageOptions = {}): Promise<Page<VersionRun>> {
    return this.versionRuns("listVersionProducers", options);
  }

  /** Every run that used this version (matching `q`), newest first. */
  iterateConsumers(options: VersionRunFilters & IterateOptions = {}): AsyncGenerator<VersionRun> {
    const { pageSize, ...filters } = options;
    return itemsByOffset((page) => this.consumers({ ...filters, ...page }), pageSize);
  }

  /** Every run that logged this content (matching `q`), the first to log it first. */
  iterateProducers(options: VersionRunFilters & IterateOptions = {}): AsyncGenerator<VersionRun> {
    const { pageSize, ...filters } = options;
    return itemsByOffset((page) => this.producers({ ...filters, ...page }), pageSize);
  }

  private async versionRuns(
    route: "listVersionConsumers" | "listVersionProducers",
    options: VersionRunFilters & PageOptions,
  ): Promise<Page<VersionRun>> {
    const page = await this.client.call(route, {
      params: { project: this.project, versionId: this.id },
      query: { q: options.q, limit: options.limit ?? DEFAULT_LIMIT, offset: options.offset ?? 0 },
    });
    return { items: page.runs, total: page.total };
  }

  /**
   * A new version of this artifact to log, holding this version's files, description and metadata: add or remove
   * files, then `run.logArtifact(draft)`. The files it holds are references to their content (sha256 and size),
   * not downloaded; only the files added are uploaded, the server already has the others.
   */
  async newDraft(): Promise<Artifact> {
    const contents = this.contents ?? (await this.fetchDetails());
    return Artifact.fromVersion({
      name: this.name,
      type: this.type,
      ...(contents.description ? { description: contents.description } : {}),
      metadata: structuredClone(contents.metadata),
      generated: contents.generated,
      manifest: contents.manifest,
      files: this.files,
    });
  }

  /**
   * Downloads the stored files into `dir` (default `./artifacts/<name>:<vN>`), each verified by sha256, through
   * the cache (`$PEDIGREE_DIR/cache`): a file is fetched only when the cache lacks it, and placed as a hard link
   * to the cached blob (read-only) or, across filesystems or with `copy: true`, as a copy you may edit.
   * References to outside storage are listed in the manifest but not fetched. Returns the directory.
   */
  async download(dir?: string, options: { onProgress?: ProgressCallback; copy?: boolean } = {}): Promise<string> {
    const target = resolve(dir ?? join("artifacts", `${this.name}-${this.version}`));
    const { manifest } = this.contents ?? (await this.fetchDetails());
    const stored = manifest.filter((entry): entry is StoredEntry => "sha256" in entry);
    // The manifest is read once, then the files come a few at a time; the transfer code loads on first use.
    const [{ downloadFile, forEachAtMost, TRANSFER_CONCURRENCY }, { blobCacheOf }] = await Promise.all([
      import("./transfer"),
      import("./cache/blob-cache"),
    ]);
    // --- cache hook: the cache decides whether a file is fetched; a fetch is the plain verified download.
    const cache = blobCacheOf(this.client.settings);
    await forEachAtMost(TRANSFER_CONCURRENCY, stored, (entry) =>
      cache.placeInto(
        target,
        entry,
        (into) => downloadFile(this.client, this.files, entry, into, options.onProgress),
        options,
      ),
    );
    await cache.trim();
    // --- end of the cache hook
    return target;
  }
}

import { rm } from "node:fs/promises";
import { join } from "node:path";
import {
  type ArtifactSummary,
  type CreateRegistryBody,
  type CreateRunBody,
  type GcResult,
  parseRegistryRef,
  type RunSummary,
  type SearchKind,
  type SearchResults,
} from "@pedigree/protocol";
import { ArtifactVersion } from "./artifact-version";
import { HttpClient } from "./client";
import { ValidationError } from "./errors";
import {
  type ClusterMembersOptions,
  fetchClusterMembers,
  fetchImpact,
  fetchLineage,
  fetchLineagePath,
  type LineageNodeRef,
  type LineageOptions,
} from "./lineage";
import {
  type ArtifactFilters,
  DEFAULT_LIMIT,
  DEFAULT_PAGE_SIZE,
  type IterateOptions,
  itemsByCursor,
  itemsByOffset,
  type Page,
  type PageOptions,
  type RunFilters,
  type VersionFilters,
} from "./pages";
import { createRegistry, Registry, type RegistryInfo } from "./registry";
import { Run } from "./run";
import { type PedigreeOptions, resolveSettings } from "./settings";

export interface InitOptions {
  project?: string;
  jobType?: string;
  name?: string;
  config?: Record<string, unknown>;
  tags?: string[];
}

/** A connection to a Pedigree server: starts runs, finds artifact versions. */
export class Pedigree {
  readonly client: HttpClient;

  constructor(options: PedigreeOptions = {}) {
    this.client = new HttpClient(resolveSettings(options));
  }

  get project(): string | undefined {
    return this.client.settings.project;
  }

  /** Starts a run in `project` (default: the client's) with a client-chosen id, so a retried start is one run. */
  async init(options: InitOptions = {}): Promise<Run> {
    const project = this.projectOf(options.project);
    const body: CreateRunBody = {
      id: newRunId(),
      jobType: options.jobType ?? "job",
      config: options.config ?? {},
      tags: options.tags ?? [],
      ...(options.name ? { name: options.name } : {}),
    };
    const runId = body.id as string;
    // The spool (disk, background retries) loads with the first run, not with the SDK.
    const [{ RunSpool }, { RunWriter }] = await Promise.all([
      import("./spool/spool-log"),
      import("./spool/run-writer"),
    ]);
    const spool = await RunSpool.create(this.client.settings.pedigreeDir, {
      baseUrl: this.client.settings.baseUrl,
      project,
      runId,
    });
    const writer = new RunWriter(this.client, spool, {
      offline: this.client.settings.mode === "offline",
      maxBlockMs: this.client.settings.maxBlockMs,
    });
    const sent = await writer.submit<RunSummary>({ kind: "createRun", body }).catch(async (error: unknown) => {
      // The server refused the run (a refused key, no role in the project): there is no run to keep writing to.
      writer.close();
      await rm(spool.dir, { recursive: true, force: true });
      throw error;
    });
    if (sent.queued && sent.reason.kind === "parked") {
      console.warn(
        `[pedigree] the start of run ${runId} is parked in ${join(spool.dir, "rejected.jsonl")} (${sent.reason.entry.reason}); the run's writes wait behind it, \`pedigree sync --retry-rejected\` sends them`,
      );
    }
    const summary = sent.queued
      ? { id: runId, project, name: options.name ?? runId, jobType: body.jobType ?? "job" }
      : sent.result;
    return new Run(this.client, summary, writer);
  }

  /** A committed version by ref (`name`, `name:alias`, `name:vN`, `registry/collection:alias`) or id. */
  async artifact(ref: string, options: { project?: string } = {}): Promise<ArtifactVersion> {
    // A registry ref is read through its collection: registry readers need no project.
    const linked = parseRegistryRef(ref);
    if (linked) return this.registry(linked.registry).collection(linked.collection).version(linked.selector);
    const project = this.projectOf(options.project);
    const details = await this.client.call("resolveVersion", { params: { project }, query: { ref } });
    return new ArtifactVersion(this.client, details);
  }

  /** An artifact with all its committed versions, newest first. */
  async artifactVersions(name: string, options: { project?: string } = {}) {
    const project = this.projectOf(options.project);
    return this.client.call("getArtifact", { params: { project, name } });
  }

  /** A run with its config, inputs and outputs. */
  async run(runId: string, options: { project?: string } = {}) {
    return this.client.call("getRun", { params: { project: this.projectOf(options.project), runId } });
  }

  /** One page of a project's runs, newest first, filtered by job type, state, tag and name (`q`). */
  async runs(options: RunFilters & PageOptions & { project?: string } = {}): Promise<Page<RunSummary>> {
    const { project, limit, offset, ...filters } = options;
    const page = await this.client.call("listRuns", {
      params: { project: this.projectOf(project) },
      query: { ...filters, limit: limit ?? DEFAULT_LIMIT, offset: offset ?? 0 },
    });
    return { items: page.runs, total: page.total };
  }

  /** Every run matching the filters, newest first; runs started while the loop goes do not show. */
  iterateRuns(options: RunFilters & IterateOptions & { project?: string } = {}): AsyncGenerator<RunSummary> {
    const { project, pageSize, ...filters } = options;
    const params = { project: this.projectOf(project) };
    return itemsByCursor(async (cursor) => {
      const page = await this.client.call("listRuns", {
        params,
        query: { ...filters, limit: pageSize ?? DEFAULT_PAGE_SIZE, cursor },
      });
      return { items: page.runs, nextCursor: page.nextCursor };
    });
  }

  /** One page of a project's artifacts, by name, filtered by type and name (`q`). */
  async artifacts(options: ArtifactFilters & PageOptions & { project?: string } = {}): Promise<Page<ArtifactSummary>> {
    const { project, limit, offset, ...filters } = options;
    const page = await this.client.call("listArtifacts", {
      params: { project: this.projectOf(project) },
      query: { ...filters, limit: limit ?? DEFAULT_LIMIT, offset: offset ?? 0 },
    });
    return { items: page.artifacts, total: page.total };
  }

  /** Every artifact matching the filters, by name. */
  iterateArtifacts(
    options: ArtifactFilters & IterateOptions & { project?: string } = {},
  ): AsyncGenerator<ArtifactSummary> {
    const { pageSize, ...filters } = options;
    return itemsByOffset((page) => this.artifacts({ ...filters, ...page }), pageSize);
  }

  /** One page of the committed versions of artifact `name`, newest first; `q` matches `vN`, an alias or the description. */
  async versions(
    name: string,
    options: VersionFilters & PageOptions & { project?: string } = {},
  ): Promise<Page<ArtifactVersion>> {
    const { project, limit, offset, q } = options;
    const page = await this.client.call("listArtifactVersions", {
      params: { project: this.projectOf(project), name },
      query: { q, limit: limit ?? DEFAULT_LIMIT, offset: offset ?? 0 },
    });
    return { items: page.versions.map((version) => new ArtifactVersion(this.client, version)), total: page.total };
  }

  /** Every committed version of artifact `name` matching `q`, newest first. */
  iterateVersions(
    name: string,
    options: VersionFilters & IterateOptions & { project?: string } = {},
  ): AsyncGenerator<ArtifactVersion> {
    const { pageSize, ...filters } = options;
    return itemsByOffset((page) => this.versions(name, { ...filters, ...page }), pageSize);
  }

  /**
   * Runs, artifacts, versions and collections you can read whose name starts with `q` (then those containing it),
   * at most `limit` of each kind (default 10, at most 100), across every project you can read unless `project`
   * names one; `totals` says how many of each kind match in all.
   */
  async search(
    q: string,
    options: { kinds?: SearchKind[]; project?: string; limit?: number } = {},
  ): Promise<SearchResults> {
    return this.client.call("search", { query: { q, ...options } });
  }

  /** Creates a registry (admins only); idempotent for the same settings. */
  async createRegistry(options: CreateRegistryBody): Promise<RegistryInfo> {
    return createRegistry(this.client, options);
  }

  /** The registries you can read: organization registries and the restricted ones you are a member of. */
  async registries(): Promise<RegistryInfo[]> {
    return (await this.client.call("listRegistries")).registries;
  }

  /** A registry by name (`model`, `dataset`): link versions, manage collections and their aliases. */
  registry(name: string): Registry {
    return new Registry(this.client, name, this.client.settings.project);
  }

  async projects() {
    return (await this.client.call("listProjects")).projects;
  }

  async whoami() {
    return this.client.call("whoAmI");
  }

  /** Deletes every version of artifact `name` (tombstones, as `version.delete()` makes). */
  async deleteArtifact(name: string, options: { project?: string; unlink?: boolean } = {}) {
    const project = this.projectOf(options.project);
    return this.client.call("deleteArtifact", {
      params: { project, name },
      query: { unlink: options.unlink ?? false },
    });
  }

  /** Deletes a run: it stays in the lineage graph, marked deleted, with its edges. */
  async deleteRun(runId: string, options: { project?: string } = {}) {
    return this.client.call("deleteRun", { params: { project: this.projectOf(options.project), runId } });
  }

  /**
   * Server maintenance (server admins): expires versions past their ttl, sweeps abandoned pending versions and
   * frees the blobs no live version references (after the server's grace period). `dryRun` only counts.
   */
  async collectGarbage(options: { dryRun?: boolean } = {}): Promise<GcResult> {
    return this.client.call("collectGarbage", { query: { dryRun: options.dryRun ?? false } });
  }

  /** Points `alias` of artifact `name` at `version` (`vN` or a version id). */
  async setAlias(name: string, alias: string, version: string, options: { project?: string } = {}) {
    const project = this.projectOf(options.project);
    await this.client.call("setArtifactAlias", { params: { project, name, alias }, body: { version } });
  }

  /**
   * The lineage graph around a version (ref or id), a run (id), or an OpenLineage node (`dataset:<ns>:<name>`,
   * `job:<ns>:<name>`, `run:<uuid>`, or `{ kind, namespace, name }` when a name holds `:`).
   */
  async lineage(node: LineageNodeRef, options: LineageOptions & { project?: string } = {}) {
    const { project, ...query } = options;
    return fetchLineage(this.client, this.projectOf(project), node, query);
  }

  /** One page of the members of a cluster of `lineage(node, options)`, searchable by name with `q`. */
  async clusterMembers(
    clusterId: string,
    node: LineageNodeRef,
    options: ClusterMembersOptions & { project?: string } = {},
  ) {
    const { project, ...query } = options;
    return fetchClusterMembers(this.client, this.projectOf(project), clusterId, node, query);
  }

  /** Every version and run downstream of `node`, grouped by artifact type, job type and registry collection. */
  async impact(node: LineageNodeRef, options: { project?: string; asOf?: Date | string } = {}) {
    const { project, ...query } = options;
    return fetchImpact(this.client, this.projectOf(project), node, query);
  }

  /** The shortest chain of runs and versions connecting `from` and `to`, in time order; `nodes` is null if none. */
  async lineagePath(
    from: LineageNodeRef,
    to: LineageNodeRef,
    options: { project?: string; asOf?: Date | string } = {},
  ) {
    const { project, ...query } = options;
    return fetchLineagePath(this.client, this.projectOf(project), from, to, query);
  }

  protected projectOf(project: string | undefined): string {
    const chosen = project ?? this.client.settings.project;
    if (!chosen) {
      throw new ValidationError(
        "BAD_REQUEST",
        "name a project: new Pedigree({ project }), init({ project }) or PEDIGREE_PROJECT",
        undefined,
        "project",
      );
    }
    return chosen;
  }
}

function newRunId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (byte) => alphabet[byte % alphabet.length]).join("");
}

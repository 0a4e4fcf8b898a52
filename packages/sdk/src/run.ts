import { join } from "node:path";
import {
  API_PREFIX,
  parseRegistryRef,
  type RunState,
  type RunSummary,
  routes,
  routeUrl,
  type VersionContents,
  type VersionSummary,
} from "@pedigree/protocol";
import { type Artifact, checkedManifest } from "./artifact";
import { ArtifactVersion } from "./artifact-version";
import type { HttpClient } from "./client";
import { AuthError, PedigreeError } from "./errors";
import { fetchLineage, type LineageOptions } from "./lineage";
import { type ExitWatchedRun, type FinishRequest, forgetRun, watchRun } from "./process-exit";
import { Registry, type VersionInput } from "./registry";
import type { QueuedReason, RunWriter } from "./spool/run-writer";
import type { ProgressCallback } from "./transfer";

const HEARTBEAT_MS = 30_000;

export interface FinishResult {
  /** Writes that did not reach the server in time; they stay in the spool for the background retry or `pedigree sync`. */
  queued: number;
  /** Writes parked in the spool's rejected.jsonl (5xx after every retry, or refused); `pedigree sync --retry-rejected`. */
  rejected: number;
  spoolDir: string;
}

/**
 * One execution of a script. Inputs and outputs logged through it become the lineage. Every write goes
 * through the run's spool: on disk first, then to the server, so a dead server or process loses nothing.
 */
export class Run implements ExitWatchedRun {
  readonly id: string;
  readonly project: string;
  /** The server's display name (`zesty-snowball-7`), or the id while the run is only queued. */
  readonly name: string;
  readonly jobType: string;
  private state: RunState = "running";
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly client: HttpClient,
    summary: Pick<RunSummary, "id" | "project" | "name" | "jobType">,
    private readonly writer: RunWriter,
  ) {
    this.id = summary.id;
    this.project = summary.project;
    this.name = summary.name;
    this.jobType = summary.jobType;
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
    watchRun(this);
  }

  get finished(): boolean {
    return this.state !== "running";
  }

  /** The lineage graph around this run. */
  lineage(options: LineageOptions = {}) {
    return fetchLineage(this.client, this.project, this.id, options);
  }

  /**
   * Uses a version (`name`, `name:alias`, `name:vN`, `registry/collection:alias`) and records the input edge.
   * When the server cannot be reached (or in offline mode) the edge stays queued (resolved later as of now),
   * and the ref is answered from the local cache when it was resolved on this machine before and all its files
   * are cached: that version, with `offline: true` and `resolvedAt`. Otherwise this throws: the version's files
   * cannot be had. A 5xx after every retry parks the edge in rejected.jsonl and throws the server's answer; a
   * refused key throws an AuthError (never answered from the cache).
   */
  async useArtifact(ref: string, options: { type?: string; project?: string } = {}): Promise<ArtifactVersion> {
    const usedAt = new Date().toISOString();
    const sent = await this.writer.submit<VersionContents>({ kind: "useArtifact", body: { ref, ...options, usedAt } });
    const key = { ref, project: options.project ?? this.project };
    if (sent.queued) {
      const { reason } = sent;
      let notCached = "";
      if (reason.kind === "unreachable" || reason.kind === "offline") {
        const { answerFromCache } = await import("./cache/offline-use");
        const answer = await answerFromCache(this.client.settings, key, options.type);
        if (answer.found) {
          const { version, via, resolvedAt } = answer.record;
          console.warn(
            `[pedigree] ${this.whyQueued(reason)}: run ${this.id} uses '${ref}' as ${version.artifact}:${version.version}, resolved on this machine at ${resolvedAt}, from the cache; the use is queued`,
          );
          return new ArtifactVersion(this.client, version, via, { resolvedAt });
        }
        notCached = `; not answered from the cache: ${answer.why}`;
      }
      const failure = reason.kind === "parked" && reason.error instanceof PedigreeError ? reason.error : undefined;
      throw new PedigreeError(
        failure?.code ?? "NETWORK",
        `${this.whyQueued(reason)}: run ${this.id}'s use of '${ref}' is ${reason.kind === "parked" ? "parked" : "queued"} and will be recorded ${reason.kind === "parked" ? "by `pedigree sync --retry-rejected`" : "when the server is back"}, but the version cannot be fetched now${notCached}`,
        failure?.status,
        "ref",
      );
    }
    const linked = parseRegistryRef(ref);
    const via = linked ? { registry: linked.registry, collection: linked.collection } : undefined;
    // Remembered for a later use while the server is unreachable; a cache that cannot be written costs only that.
    const { rememberResolution } = await import("./cache/offline-use");
    await rememberResolution(this.client.settings, key, sent.result, via).catch((error: unknown) =>
      console.warn(`[pedigree] could not record the resolution of '${ref}' in the cache: ${String(error)}`),
    );
    return new ArtifactVersion(this.client, sent.result, via);
  }

  /**
   * Logs a version: sends the manifest (small files with it), uploads only the files the server lacks, commits.
   * Identical content gives the existing version and records this run as one more producer. When the server
   * does not answer in time, or keeps failing it with 5xx (parked in rejected.jsonl, with a warning), the
   * version is queued and the answer says `queued: true`.
   */
  async logArtifact(
    artifact: Artifact,
    options: {
      aliases?: string[];
      /** Retention, e.g. `"30d"`: the version expires (becomes a tombstone) that long after it is logged. */
      ttl?: string;
      onProgress?: ProgressCallback;
    } = {},
  ): Promise<ArtifactVersion> {
    const manifest = checkedManifest(artifact.manifest);
    const sizes = new Map(
      manifest.flatMap((entry) => ("sha256" in entry ? [[entry.sha256, entry.size] as const] : [])),
    );
    const files = await this.writer.keepSmallFiles(artifact.localFiles(), sizes);
    const body = {
      name: artifact.name,
      type: artifact.type,
      manifest,
      metadata: artifact.metadata,
      description: artifact.description,
      generated: artifact.generated,
      runId: this.id,
      aliases: options.aliases ?? [],
      ...(options.ttl ? { ttl: options.ttl } : {}),
    };
    const sources = artifact.contentSources();
    const sent = await this.writer.submit<VersionSummary>(
      { kind: "logArtifact", body, files, ...(Object.keys(sources).length > 0 ? { sources } : {}) },
      { onProgress: options.onProgress },
    );
    if (sent.queued && sent.reason.kind === "parked") this.warnParked(`version of '${artifact.name}'`, sent.reason);
    return sent.queued
      ? ArtifactVersion.queued(this.client, this.project, artifact)
      : new ArtifactVersion(this.client, sent.result);
  }

  /**
   * Links a version (a logged ArtifactVersion, an id, or a ref in this run's project) into
   * `registry/collection`, e.g. `run.linkArtifact(model, "model/zoo-classifier", { aliases: ["staging"] })`.
   */
  async linkArtifact(version: VersionInput, target: string, options: { aliases?: string[]; move?: boolean } = {}) {
    const slash = target.indexOf("/");
    if (slash < 1) throw new Error(`'${target}' is not 'registry/collection'`);
    const registry = new Registry(this.client, target.slice(0, slash), this.project);
    return registry.link(version, target.slice(slash + 1), options);
  }

  /**
   * Ends the run (`finished` unless told otherwise) and waits up to `finishTimeoutMs` for queued writes.
   * Answers what is still queued. Safe to call more than once.
   */
  async finish(state: Exclude<RunState, "running"> = "finished"): Promise<FinishResult> {
    const { spool } = this.writer;
    if (this.finished)
      return { queued: spool.pendingCount, rejected: (await spool.rejected()).length, spoolDir: spool.dir };
    this.state = state;
    clearInterval(this.heartbeat);
    forgetRun(this);
    try {
      await this.writer.submit({ kind: "updateRun", body: { state } });
    } catch (error) {
      if (!(error instanceof AuthError))
        console.warn(`[pedigree] run ${this.id} could not be marked ${state}: ${String(error)}`);
    }
    const queued = await this.writer.flush(this.client.settings.finishTimeoutMs);
    const rejected = (await spool.rejected()).length;
    if (queued === 0 && rejected === 0) await spool.removeIfDone();
    this.writer.close();
    if (queued > 0) {
      console.warn(
        `[pedigree] ${queued} write(s) of run ${this.id} are still queued in ${spool.dir}; \`pedigree sync\` sends them`,
      );
    }
    if (rejected > 0) {
      console.warn(
        `[pedigree] ${rejected} write(s) of run ${this.id} are parked in ${join(spool.dir, "rejected.jsonl")}; \`pedigree sync --retry-rejected\` sends them again`,
      );
    }
    if (this.writer.refusedKey) throw this.writer.refusedKey;
    return { queued, rejected, spoolDir: spool.dir };
  }

  /**
   * For the process-exit hook, which can no longer wait: queue the final state and describe the request, or
   * answer null when earlier writes are still queued. The server refuses new inputs and outputs of a finished
   * run, so the final state must not overtake them: it stays queued behind them for the next process or
   * `pedigree sync`, and the server meanwhile marks the silent run `crashed` (which the replay resumes).
   */
  finishRequest(state: Exclude<RunState, "running">): FinishRequest | null {
    this.state = state;
    clearInterval(this.heartbeat);
    this.writer.spool.append({ kind: "updateRun", body: { state } });
    const overtakes = this.writer.spool.pendingCount > 1;
    this.writer.close();
    if (overtakes) return null;
    return {
      url: `${this.client.settings.baseUrl}${API_PREFIX}${routeUrl(routes.updateRun, { params: { project: this.project, runId: this.id } })}`,
      apiKey: this.client.settings.apiKey,
      body: { state },
    };
  }

  /** Why a write was left queued, for messages. */
  private whyQueued(reason: QueuedReason): string {
    switch (reason.kind) {
      case "offline":
        return "offline mode";
      case "unreachable":
      case "slow":
        return reason.message;
      case "parked":
        return reason.error instanceof Error ? reason.error.message : reason.entry.reason;
    }
  }

  private warnParked(what: string, reason: Extract<QueuedReason, { kind: "parked" }>) {
    console.warn(
      `[pedigree] run ${this.id}'s ${what} is parked in ${join(this.writer.spool.dir, "rejected.jsonl")} (${this.whyQueued(reason)}); later writes go on, \`pedigree sync --retry-rejected\` sends it again`,
    );
  }

  private beat() {
    if (this.client.settings.mode === "offline") return;
    this.client
      .call("updateRun", { params: { project: this.project, runId: this.id }, body: { heartbeat: true } })
      .catch((error: unknown) => console.warn(`[pedigree] heartbeat of run ${this.id} failed: ${String(error)}`));
  }
}

import type { RunState, RunSummary, VersionContents, VersionSummary } from "@pedigree/protocol";
import { type Artifact, checkedManifest } from "./artifact";
import { ArtifactVersion } from "./artifact-version";
import type { HttpClient } from "./client";
import { PedigreeError } from "./errors";
import { fetchLineage, type LineageOptions } from "./lineage";
import { forgetRun, watchRun } from "./process-exit";
import { Registry, type VersionInput } from "./registry";
import type { RunWriter } from "./spool/run-writer";
import type { ProgressCallback } from "./transfer";

const HEARTBEAT_MS = 30_000;

export interface FinishResult {
  /** Writes that did not reach the server in time; they stay in the spool for the background retry or `pedigree sync`. */
  queued: number;
  spoolDir: string;
}

/**
 * One execution of a script. Inputs and outputs logged through it become the lineage. Every write goes
 * through the run's spool: on disk first, then to the server, so a dead server or process loses nothing.
 */
export class Run {
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
   * When the server cannot be reached the edge stays queued (resolved later as of now), and this throws: the
   * version's files cannot be had.
   */
  async useArtifact(ref: string, options: { type?: string; project?: string } = {}): Promise<ArtifactVersion> {
    const usedAt = new Date().toISOString();
    const sent = await this.writer.submit<VersionContents>({ kind: "useArtifact", body: { ref, ...options, usedAt } });
    if (sent.queued) {
      throw new PedigreeError(
        "NETWORK",
        `the server did not answer: run ${this.id}'s use of '${ref}' is queued and will be recorded when it is back, but the version cannot be fetched now`,
        undefined,
        "ref",
      );
    }
    return new ArtifactVersion(this.client, sent.result);
  }

  /**
   * Logs a version: sends the manifest (small files with it), uploads only the files the server lacks, commits.
   * Identical content gives the existing version and records this run as one more producer. When the server
   * does not answer in time the version is queued and the answer says `queued: true`.
   */
  async logArtifact(
    artifact: Artifact,
    options: { aliases?: string[]; onProgress?: ProgressCallback } = {},
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
    };
    const sent = await this.writer.submit<VersionSummary>(
      { kind: "logArtifact", body, files },
      { onProgress: options.onProgress },
    );
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
    if (this.finished) return { queued: (await this.writer.spool.unacked()).length, spoolDir: this.writer.spool.dir };
    this.state = state;
    clearInterval(this.heartbeat);
    forgetRun(this);
    await this.writer.submit({ kind: "updateRun", body: { state } }).catch((error: unknown) => {
      console.warn(`[pedigree] run ${this.id} could not be marked ${state}: ${String(error)}`);
    });
    const queued = await this.writer.flush(this.client.settings.finishTimeoutMs);
    this.writer.close();
    if (queued === 0) await this.writer.spool.removeIfDone();
    else {
      console.warn(
        `[pedigree] ${queued} write(s) of run ${this.id} are still queued in ${this.writer.spool.dir}; \`pedigree sync\` sends them`,
      );
    }
    return { queued, spoolDir: this.writer.spool.dir };
  }

  /** For the process-exit hook, which can no longer wait: queue the final state and describe the request. */
  finishRequest(state: Exclude<RunState, "running">) {
    this.state = state;
    clearInterval(this.heartbeat);
    this.writer.spool.append({ kind: "updateRun", body: { state } });
    this.writer.close();
    return {
      url: `${this.client.settings.baseUrl}/api/v1/projects/${this.project}/runs/${this.id}`,
      apiKey: this.client.settings.apiKey,
      body: { state },
    };
  }

  private beat() {
    if (this.client.settings.mode === "offline") return;
    this.client
      .requestVoid("PATCH", `projects/${this.project}/runs/${this.id}`, { json: { heartbeat: true } })
      .catch((error: unknown) => console.warn(`[pedigree] heartbeat of run ${this.id} failed: ${String(error)}`));
  }
}

import {
  CreateVersionResponse,
  type RunState,
  type RunSummary,
  VersionDetails,
  VersionSummary,
} from "@pedigree/protocol";
import type { Artifact } from "./artifact";
import { ArtifactVersion } from "./artifact-version";
import type { HttpClient } from "./client";
import { forgetRun, watchRun } from "./process-exit";
import type { ProgressCallback } from "./transfer";
import { uploadBlob } from "./transfer";

const HEARTBEAT_MS = 30_000;
const UPLOAD_CONCURRENCY = 4;

/** One execution of a script. Inputs and outputs logged through it become the lineage. */
export class Run {
  readonly id: string;
  readonly project: string;
  readonly name: string;
  readonly jobType: string;
  private state: RunState = "running";
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly client: HttpClient,
    summary: RunSummary,
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

  /** Uses a version (`name`, `name:alias`, `name:vN`, `registry/collection:alias`) and records the input edge. */
  async useArtifact(ref: string, options: { type?: string; project?: string } = {}): Promise<ArtifactVersion> {
    const details = await this.client.request(
      "POST",
      `projects/${this.project}/runs/${this.id}/inputs`,
      VersionDetails,
      {
        json: { ref, ...options },
      },
    );
    return new ArtifactVersion(this.client, details);
  }

  /**
   * Logs a version: sends the manifest, uploads only the files the server lacks, commits. Identical content
   * gives the existing version and records this run as one more producer.
   */
  async logArtifact(
    artifact: Artifact,
    options: { aliases?: string[]; onProgress?: ProgressCallback } = {},
  ): Promise<ArtifactVersion> {
    const aliases = options.aliases ?? [];
    const inlineBlobs = await artifact.smallFileContents();
    const created = await this.client.request("POST", `projects/${this.project}/versions`, CreateVersionResponse, {
      json: {
        ...(inlineBlobs ? { inlineBlobs } : {}),
        name: artifact.name,
        type: artifact.type,
        manifest: artifact.manifest,
        metadata: artifact.metadata,
        description: artifact.description,
        generated: artifact.generated,
        runId: this.id,
        aliases,
      },
    });
    if (created.missingBlobs.length === 0) return new ArtifactVersion(this.client, created.version);
    await this.uploadMissing(artifact, created.missingBlobs, options.onProgress);
    const committed = await this.client.request(
      "POST",
      `projects/${this.project}/versions/${created.version.id}/commit`,
      VersionSummary,
      {
        json: { runId: this.id, aliases },
      },
    );
    return new ArtifactVersion(this.client, committed);
  }

  /** Ends the run (`finished` unless told otherwise). Safe to call more than once. */
  async finish(state: Exclude<RunState, "running"> = "finished"): Promise<void> {
    if (this.finished) return;
    this.state = state;
    clearInterval(this.heartbeat);
    forgetRun(this);
    await this.client.requestVoid("PATCH", `projects/${this.project}/runs/${this.id}`, { json: { state } });
  }

  /** What `finish` sends, for the process-exit hook that can no longer wait for promises. */
  finishRequest(state: Exclude<RunState, "running">) {
    this.state = state;
    clearInterval(this.heartbeat);
    return {
      url: `${this.client.settings.baseUrl}/api/v1/projects/${this.project}/runs/${this.id}`,
      apiKey: this.client.settings.apiKey,
      body: { state },
    };
  }

  private beat() {
    this.client
      .requestVoid("PATCH", `projects/${this.project}/runs/${this.id}`, { json: { heartbeat: true } })
      .catch((error: unknown) => console.warn(`[pedigree] heartbeat of run ${this.id} failed: ${String(error)}`));
  }

  private async uploadMissing(artifact: Artifact, missing: string[], onProgress?: ProgressCallback) {
    const queue = [...missing];
    const pathOf = new Map(
      artifact.manifest.flatMap((entry) => ("sha256" in entry ? [[entry.sha256, entry.path] as const] : [])),
    );
    const worker = async () => {
      for (let sha256 = queue.shift(); sha256; sha256 = queue.shift()) {
        const localPath = artifact.localFileOf(sha256);
        if (!localPath) throw new Error(`the server asks for ${sha256}, which this artifact has no local file for`);
        await uploadBlob(this.client, sha256, localPath, { path: pathOf.get(sha256) ?? sha256, onProgress });
      }
    };
    await Promise.all(Array.from({ length: Math.min(UPLOAD_CONCURRENCY, queue.length) }, worker));
  }
}

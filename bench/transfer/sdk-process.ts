/**
 * The SDK side of bench/transfer, in a process of its own so that its peak RSS is its own:
 *   tsx bench/transfer/sdk-process.ts '{"action":"upload"|"download", ...}'
 * Prints one JSON line: seconds, baseline and peak RSS (MB).
 */
import { Artifact, Pedigree } from "@pedigree/sdk";

interface Job {
  action: "upload" | "download";
  baseUrl: string;
  apiKey: string;
  pedigreeDir: string;
  name: string;
  /** upload: a file or a directory; download: the target directory. */
  path: string;
  dir?: boolean;
}

const job = JSON.parse(process.argv[2] ?? "{}") as Job;
const peakMb = () => process.resourceUsage().maxRSS / 1024;
const hour = 3_600_000;
const pd = new Pedigree({
  baseUrl: job.baseUrl,
  apiKey: job.apiKey,
  project: "transfer",
  pedigreeDir: job.pedigreeDir,
  maxBlockMs: hour,
  finishTimeoutMs: hour,
  timeoutMs: 120_000,
});
await pd.whoami(); // warm: modules loaded, connection made
const baselineMb = peakMb();
let progressMax = 0;
const started = performance.now();
if (job.action === "upload") {
  const run = await pd.init({ jobType: "upload" });
  const artifact = new Artifact({ name: job.name, type: "dataset" });
  if (job.dir) await artifact.addDir(job.path);
  else await artifact.addFile(job.path);
  await run.logArtifact(artifact, { onProgress: (p) => (progressMax = Math.max(progressMax, p.bytes)) });
  await run.finish();
} else {
  const version = await pd.artifact(`${job.name}:latest`);
  await version.download(job.path);
}
const seconds = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ seconds, baselineMb, peakMb: peakMb(), progressMax })}\n`);

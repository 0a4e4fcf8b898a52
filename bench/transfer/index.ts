/**
 * bench/transfer: one large file uploaded and downloaded through the SDK (peak RSS of the SDK's process and of
 * the server's, MB/s against `cp` of the same file), then an artifact of many small files (files/s); then, with
 * the S3 store (s3rver on 127.0.0.1, started here), one large file through presigned URLs and through the server.
 *   pnpm bench:transfer [--size 2GiB] [--files 10000] [--s3-size 256MiB] [--store local|s3|both]
 * The server runs in its own process on PostgreSQL (a database made and dropped here); each SDK transfer runs
 * in a process of its own (test/fixtures/sdk-transfer-process.ts).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { startTestS3 } from "../../test/fixtures/s3rver";
import { runSdkTransfer, type SdkTransferJob } from "../../test/fixtures/sdk-transfer";
import { createBenchDatabase, type ServerProcess, startServerProcess } from "../../test/fixtures/server-process";

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    size: { type: "string", default: "2GiB" },
    files: { type: "string", default: "10000" },
    "s3-size": { type: "string", default: "256MiB" },
    store: { type: "string", default: "both" },
  },
});
const size = parseSize(values.size);
const s3Size = parseSize(values["s3-size"]);
if (!["local", "s3", "both"].includes(values.store))
  throw new Error(`--store: local, s3 or both, not '${values.store}'`);
const fileCount = Number(values.files);

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/i.exec(text.trim());
  if (!match) throw new Error(`--size: '${text}' is not a size like 2GiB, 512MiB or 100MB`);
  const units: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };
  return Math.round(Number(match[1]) * (units[(match[2] ?? "b").toLowerCase()] as number));
}

/** Peak RSS of a process since the last reset (VmHWM), in MB; `reset` starts a new peak (clear_refs 5). */
async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
}
async function resetPeak(pid: number) {
  await writeFile(`/proc/${pid}/clear_refs`, "5");
}

async function writeLargeFile(path: string, bytes: number) {
  const block = randomBytes(4 * 2 ** 20);
  const out = createWriteStream(path);
  for (let written = 0; written < bytes; written += block.length) {
    const chunk = block.subarray(0, Math.min(block.length, bytes - written));
    // A different first byte per block, so the file is not one block repeated.
    chunk[0] = (written / block.length) & 0xff;
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

const work = await mkdtemp(join(tmpdir(), "pedigree-bench-transfer-"));
const apiKey = "pdg_bench_transfer_key";
const MB = 1e6;
const rss = (value: number) => `${value.toFixed(0)} MB`;

async function sdkOn(server: ServerProcess, job: Omit<SdkTransferJob, "baseUrl" | "apiKey" | "pedigreeDir">) {
  await resetPeak(server.pid);
  const result = await runSdkTransfer({ baseUrl: server.url, apiKey, pedigreeDir: join(work, "sdk"), ...job });
  return { ...result, serverPeakMb: await peakRssMb(server.pid) };
}

if (values.store !== "s3") await localFigures();
if (values.store !== "local") await s3Figures();
await rm(work, { recursive: true, force: true });

async function localFigures() {
  const database = await createBenchDatabase("pedigree_bench_transfer");
  const server = await startServerProcess({ dir: join(work, "server"), databaseUrl: database.url, apiKey });

  try {
    const big = join(work, "big.bin");
    await writeLargeFile(big, size);
    const cpStarted = performance.now();
    await run("cp", [big, join(work, "big-copy.bin")]);
    const cpSeconds = (performance.now() - cpStarted) / 1000;
    await rm(join(work, "big-copy.bin"));

    const serverIdleMb =
      Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${server.pid}/status`, "utf8"))?.[1]) / 1024;
    const upload = await sdkOn(server, { action: "upload", name: "big", path: big });
    const downloadDir = join(work, "download");
    const download = await sdkOn(server, { action: "download", name: "big", path: downloadDir });
    const downloaded = await stat(join(downloadDir, "big.bin"));
    if (downloaded.size !== size) throw new Error(`downloaded ${downloaded.size} bytes, expected ${size}`);
    await rm(downloadDir, { recursive: true });
    await rm(big);

    const small = join(work, "small");
    for (let index = 0; index < fileCount; index += 100) {
      const dir = join(small, `d${Math.floor(index / 100)}`);
      await mkdir(dir, { recursive: true });
      await Promise.all(
        Array.from({ length: Math.min(100, fileCount - index) }, (_, offset) =>
          writeFile(join(dir, `f${index + offset}.txt`), `file ${index + offset} ${randomBytes(16).toString("hex")}\n`),
        ),
      );
    }
    const smallUpload = await sdkOn(server, { action: "upload", name: "small", path: small, dir: true });
    const smallDownload = await sdkOn(server, { action: "download", name: "small", path: join(work, "small-down") });

    const mbps = (seconds: number) => (size / MB / seconds).toFixed(1);
    console.log(
      `transfer of one ${(size / MB).toFixed(0)} MB file (${values.size}); server idle RSS ${rss(serverIdleMb)}`,
    );
    console.log(`  cp (floor)   ${cpSeconds.toFixed(2)} s  ${mbps(cpSeconds)} MB/s`);
    for (const [label, result] of [
      ["upload  ", upload],
      ["download", download],
    ] as const) {
      console.log(
        `  ${label}     ${result.seconds.toFixed(2)} s  ${mbps(result.seconds)} MB/s (${(cpSeconds / result.seconds).toFixed(2)}x cp)` +
          `  peak RSS: SDK ${rss(result.peakMb)} (baseline ${rss(result.baselineMb)}), server ${rss(result.serverPeakMb)}`,
      );
    }
    if (upload.progressMax !== size) console.log(`  upload progress ended at ${upload.progressMax} of ${size} bytes`);
    console.log(`${fileCount} small files in one artifact`);
    for (const [label, result] of [
      ["upload  ", smallUpload],
      ["download", smallDownload],
    ] as const) {
      console.log(
        `  ${label}     ${result.seconds.toFixed(2)} s  ${(fileCount / result.seconds).toFixed(0)} files/s` +
          `  peak RSS: SDK ${rss(result.peakMb)}, server ${rss(result.serverPeakMb)}`,
      );
    }
  } finally {
    await server.stop();
    await database.drop();
  }
}

/**
 * The S3 store: s3rver (in this process, on the local disk) holds the bucket. One server answers presigned URLs
 * (the SDK PUTs and GETs the bucket itself; the server reads an upload back through a hash before it counts),
 * one has them off (`PEDIGREE_DIRECT_MIN_BYTES=Infinity`: every byte streams through it, into a multipart upload).
 */
async function s3Figures() {
  const s3 = await startTestS3("pedigree-bench");
  const big = join(work, "s3-big.bin");
  await writeLargeFile(big, s3Size);
  const results = [];
  try {
    for (const [label, directMin] of [
      ["presigned URLs", String(2 ** 20)],
      ["through server", "Infinity"],
    ] as const) {
      const name = label.startsWith("presigned") ? "direct" : "served";
      const database = await createBenchDatabase(`pedigree_bench_transfer_s3_${name}`);
      const server = await startServerProcess({
        dir: join(work, `server-s3-${name}`),
        databaseUrl: database.url,
        apiKey,
        env: {
          ...s3.env,
          PEDIGREE_BLOB_STORE: `s3://${s3.bucket}/${name}`,
          PEDIGREE_DIRECT_MIN_BYTES: directMin,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        },
      });
      try {
        const idleMb =
          Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${server.pid}/status`, "utf8"))?.[1]) / 1024;
        const upload = await sdkOn(server, { action: "upload", name: "big", path: big });
        const downloadDir = join(work, `s3-download-${name}`);
        const download = await sdkOn(server, { action: "download", name: "big", path: downloadDir });
        const downloaded = await stat(join(downloadDir, "s3-big.bin"));
        if (downloaded.size !== s3Size) throw new Error(`downloaded ${downloaded.size} bytes, expected ${s3Size}`);
        await rm(downloadDir, { recursive: true });
        results.push({ label, idleMb, upload, download });
      } finally {
        await server.stop();
        await database.drop();
      }
    }
  } finally {
    await s3.close();
    await rm(big, { force: true });
  }
  const mbps = (seconds: number) => (s3Size / MB / seconds).toFixed(1);
  console.log(`S3 store (s3rver on 127.0.0.1): one ${(s3Size / MB).toFixed(0)} MB file (${values["s3-size"]})`);
  for (const { label, idleMb, upload, download } of results) {
    console.log(`  ${label}: server idle RSS ${rss(idleMb)}`);
    for (const [phase, result] of [
      ["upload  ", upload],
      ["download", download],
    ] as const) {
      console.log(
        `  ${label} ${phase}  ${result.seconds.toFixed(2)} s  ${mbps(result.seconds)} MB/s` +
          `  peak RSS: SDK ${rss(result.peakMb)} (baseline ${rss(result.baselineMb)}), server ${rss(result.serverPeakMb)}`,
      );
    }
  }
}

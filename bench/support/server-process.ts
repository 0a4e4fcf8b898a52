import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";

export interface BenchServer {
  url: string;
  apiKey: string;
  databaseUrl: string;
  stop(): Promise<void>;
}

const adminUrl = () => process.env.PEDIGREE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** A dedicated PostgreSQL database for one benchmark, dropped by `drop()`. */
export async function createBenchDatabase(name: string) {
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.unsafe(`create database ${name}`);
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** The real server in its own process (as deployed), on a free port, over `databaseUrl`. */
export async function startServerProcess(databaseUrl: string): Promise<BenchServer> {
  const dir = await mkdtemp(join(tmpdir(), "pedigree-bench-"));
  const apiKey = `pdg_bench_${Math.random().toString(36).slice(2)}`;
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", "packages/server/src/cli.ts", "server", "--port", "0", "--data-dir", join(dir, "data")],
    {
      env: { ...process.env, DATABASE_URL: databaseUrl, PEDIGREE_DIR: dir, PEDIGREE_ADMIN_KEY: apiKey },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  return {
    url,
    apiKey,
    databaseUrl,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

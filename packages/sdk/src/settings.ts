import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CredentialsFile } from "@pedigree/protocol";

export interface PedigreeOptions {
  /** Server URL; PEDIGREE_BASE_URL, else http://127.0.0.1:4000. */
  baseUrl?: string;
  /** PEDIGREE_API_KEY, else the key saved for `baseUrl` in ~/.pedigree/credentials. */
  apiKey?: string;
  /** Default project of `init()` and refs; PEDIGREE_PROJECT. */
  project?: string;
  /** Milliseconds one HTTP attempt may take (default 30 s). */
  timeoutMs?: number;
  /** Retries of a failed request on network errors and 5xx/429 (default 3). */
  retries?: number;
  /** Where the credentials file and the spool of queued writes live; PEDIGREE_DIR, else ~/.pedigree. */
  pedigreeDir?: string;
  /** `offline` only writes to the spool (send it later with `pedigree sync`); PEDIGREE_MODE. Default `online`. */
  mode?: "online" | "offline";
  /** How long a logging call may wait for the server before it goes on with the write queued (default 10 s). */
  maxBlockMs?: number;
  /** How long `run.finish()` waits for queued writes to reach the server (default 30 s). */
  finishTimeoutMs?: number;
}

export interface Settings {
  baseUrl: string;
  apiKey: string | undefined;
  project: string | undefined;
  timeoutMs: number;
  retries: number;
  pedigreeDir: string;
  mode: "online" | "offline";
  maxBlockMs: number;
  finishTimeoutMs: number;
}

export const DEFAULT_BASE_URL = "http://127.0.0.1:4000";

/** Options first, then PEDIGREE_* variables, then the credentials file (like a login). */
export function resolveSettings(options: PedigreeOptions, env: NodeJS.ProcessEnv = process.env): Settings {
  const pedigreeDir = options.pedigreeDir ?? env.PEDIGREE_DIR ?? join(homedir(), ".pedigree");
  const baseUrl = (options.baseUrl ?? env.PEDIGREE_BASE_URL ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
  return {
    baseUrl,
    apiKey: options.apiKey ?? env.PEDIGREE_API_KEY ?? savedApiKey(pedigreeDir, baseUrl),
    project: options.project ?? env.PEDIGREE_PROJECT,
    timeoutMs: options.timeoutMs ?? 30_000,
    retries: options.retries ?? 3,
    pedigreeDir,
    mode: options.mode ?? (env.PEDIGREE_MODE === "offline" ? "offline" : "online"),
    maxBlockMs: options.maxBlockMs ?? 10_000,
    finishTimeoutMs: options.finishTimeoutMs ?? 30_000,
  };
}

function savedApiKey(pedigreeDir: string, baseUrl: string): string | undefined {
  try {
    const file = CredentialsFile.parse(JSON.parse(readFileSync(join(pedigreeDir, "credentials"), "utf8")));
    return file.servers[baseUrl]?.apiKey;
  } catch {
    return undefined;
  }
}

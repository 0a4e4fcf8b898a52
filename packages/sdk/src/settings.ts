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
  /**
   * Retries, with backoff, of a request the server answered with 5xx, 429 or 408 (default 3); PEDIGREE_RETRIES.
   * A run's write still failing with 5xx after them is parked in its spool's rejected.jsonl.
   */
  retries?: number;
  /** Where the credentials file and the spool of queued writes live; PEDIGREE_DIR, else ~/.pedigree. */
  pedigreeDir?: string;
  /** `offline` only writes to the spool (send it later with `pedigree sync`); PEDIGREE_MODE. Default `online`. */
  mode?: "online" | "offline";
  /**
   * How long a logging call may wait for the server before it goes on with the write queued (default 10 s). Once
   * the server is known unreachable, calls do not wait at all until a background probe finds it back.
   */
  maxBlockMs?: number;
  /** How long `run.finish()` waits for queued writes to reach a server that answers (default 30 s). */
  finishTimeoutMs?: number;
}

export interface Settings {
  baseUrl: string;
  apiKey: string | undefined;
  /** Where `apiKey` came from, for the message of an AuthError. */
  apiKeySource: string;
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
    ...apiKeyOf(options, env, pedigreeDir, baseUrl),
    project: options.project ?? env.PEDIGREE_PROJECT,
    timeoutMs: options.timeoutMs ?? 30_000,
    retries: options.retries ?? retriesOf(env.PEDIGREE_RETRIES),
    pedigreeDir,
    mode: options.mode ?? (env.PEDIGREE_MODE === "offline" ? "offline" : "online"),
    maxBlockMs: options.maxBlockMs ?? 10_000,
    finishTimeoutMs: options.finishTimeoutMs ?? 30_000,
  };
}

function apiKeyOf(options: PedigreeOptions, env: NodeJS.ProcessEnv, pedigreeDir: string, baseUrl: string) {
  if (options.apiKey !== undefined) return { apiKey: options.apiKey, apiKeySource: "the apiKey option" };
  if (env.PEDIGREE_API_KEY) return { apiKey: env.PEDIGREE_API_KEY, apiKeySource: "PEDIGREE_API_KEY" };
  const file = join(pedigreeDir, "credentials");
  const saved = savedApiKey(pedigreeDir, baseUrl);
  return {
    apiKey: saved,
    apiKeySource: saved
      ? `the credentials file ${file}`
      : `nowhere (no apiKey option, PEDIGREE_API_KEY or entry in ${file})`,
  };
}

function retriesOf(value: string | undefined): number {
  if (value === undefined || value === "") return 3;
  const retries = Number(value);
  if (!Number.isInteger(retries) || retries < 0)
    throw new Error(`PEDIGREE_RETRIES must be a whole number >= 0, not '${value}'`);
  return retries;
}

function savedApiKey(pedigreeDir: string, baseUrl: string): string | undefined {
  try {
    const file = CredentialsFile.parse(JSON.parse(readFileSync(join(pedigreeDir, "credentials"), "utf8")));
    return file.servers[baseUrl]?.apiKey;
  } catch {
    return undefined;
  }
}

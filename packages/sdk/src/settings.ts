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
  /**
   * The download cache's bound (`$PEDIGREE_DIR/cache`), in bytes; least recently used blobs are evicted beyond it.
   * PEDIGREE_CACHE_MAX_BYTES (bytes, or a size such as `10GB`, `512MiB`); default 10 GB.
   */
  cacheMaxBytes?: number;
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
  cacheMaxBytes: number;
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
    cacheMaxBytes: options.cacheMaxBytes ?? cacheMaxBytesOf(env.PEDIGREE_CACHE_MAX_BYTES),
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

const DEFAULT_CACHE_MAX_BYTES = 10 * 1000 ** 3;

function cacheMaxBytesOf(value: string | undefined): number {
  if (value === undefined || value === "") return DEFAULT_CACHE_MAX_BYTES;
  const bytes = parseByteSize(value);
  if (bytes === undefined)
    throw new Error(`PEDIGREE_CACHE_MAX_BYTES must be bytes or a size such as 10GB, not '${value}'`);
  return bytes;
}

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** `10GB` (10^10 bytes), `512MiB` (2^29), `1.5 TB`, `123` (bytes); undefined when it is none of these. */
export function parseByteSize(value: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = match ? UNITS[(match[2] ?? "").toLowerCase()] : undefined;
  if (!match || unit === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

function savedApiKey(pedigreeDir: string, baseUrl: string): string | undefined {
  try {
    const file = CredentialsFile.parse(JSON.parse(readFileSync(join(pedigreeDir, "credentials"), "utf8")));
    return file.servers[baseUrl]?.apiKey;
  } catch {
    return undefined;
  }
}

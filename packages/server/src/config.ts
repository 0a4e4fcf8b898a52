import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseRateLimit, type RateLimit } from "./limits/rate-limit-setting";

export interface ServerConfig {
  host: string;
  port: number;
  /** Where PGlite keeps its data and the local blob store keeps files. */
  dataDir: string;
  /** Real PostgreSQL when set; the embedded PGlite database otherwise. */
  databaseUrl: string | undefined;
  /** Where the admin key is written on first start (`<pedigreeDir>/credentials`). */
  pedigreeDir: string;
  /** A known admin key to create on first start instead of a random one (CI, containers). */
  adminKey: string | undefined;
  /** Runs without a heartbeat for this long are marked `crashed`. */
  heartbeatTimeoutMs: number;
  /** Pending versions older than this were abandoned: swept with the uploads nothing else uses. */
  pendingVersionTtlMs: number;
  /** Blobs no live version references are kept this long before garbage collection frees them. */
  gcGraceMs: number;
  /** How often the server expires versions and collects garbage. */
  gcIntervalMs: number;
  maxJsonBodyBytes: number;
  maxBlobBytes: number;
  /** Writes per user (all of its keys together); null turns the limit off. */
  rateLimit: RateLimit | null;
  /** Directory of the built web app served at `/`; none serves the API alone. */
  webRoot: string | undefined;
  /** An OpenLineage consumer (Marquez, another Pedigree…) every run's events are sent to. */
  openlineageUrl: string | undefined;
  /** Sent to it as `Authorization: Bearer <key>`. */
  openlineageApiKey: string | undefined;
  /** Where blobs are kept: unset, `<dataDir>/blobs` on the local disk; `s3://bucket/prefix`, an S3 bucket. */
  blobStore: string | undefined;
  /** The S3 endpoint of a store other than AWS (MinIO, R2, s3rver, …), addressed path-style. */
  s3Endpoint: string | undefined;
  /** Files at least this large go straight between the SDK and an S3 store (presigned URLs). */
  directTransferMinBytes: number;
  /**
   * Accept a direct upload on the sha256 the S3 store verified (AWS S3 checks a signed x-amz-checksum-sha256)
   * instead of reading it back through a hash. Only for stores known to check it.
   */
  s3TrustChecksums: boolean;
}

/**
 * The built web app: the copy inside the installed package (dist/web, put there by the package's build) or,
 * running from source in this checkout, packages/web/dist (`pnpm build:web`), when it has been built.
 */
export function bundledWebRoot(): string | undefined {
  return [new URL("./web", import.meta.url), new URL("../../web/dist", import.meta.url)]
    .map((url) => fileURLToPath(url))
    .find((dir) => existsSync(join(dir, "index.html")));
}

export function pedigreeDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.PEDIGREE_DIR ?? join(homedir(), ".pedigree");
}

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const pedigreeDir = pedigreeDirFromEnv(env);
  return {
    host: env.PEDIGREE_HOST ?? "127.0.0.1",
    port: Number(env.PEDIGREE_PORT ?? 4000),
    dataDir: env.PEDIGREE_DATA_DIR ?? join(pedigreeDir, "data"),
    databaseUrl: env.DATABASE_URL || undefined,
    pedigreeDir,
    adminKey: env.PEDIGREE_ADMIN_KEY || undefined,
    heartbeatTimeoutMs: Number(env.PEDIGREE_HEARTBEAT_TIMEOUT_MS ?? 10 * 60_000),
    pendingVersionTtlMs: Number(env.PEDIGREE_PENDING_TTL_MS ?? 24 * 60 * 60_000),
    gcGraceMs: parseDuration(env.PEDIGREE_GC_GRACE ?? "24h", "PEDIGREE_GC_GRACE"),
    gcIntervalMs: parseDuration(env.PEDIGREE_GC_INTERVAL ?? "1h", "PEDIGREE_GC_INTERVAL"),
    maxJsonBodyBytes: Number(env.PEDIGREE_MAX_BODY_BYTES ?? 64 * 1024 * 1024),
    maxBlobBytes: Number(env.PEDIGREE_MAX_BLOB_BYTES ?? 50 * 1024 ** 3),
    rateLimit: parseRateLimit(env.PEDIGREE_RATE_LIMIT, { perSecond: 200, burst: 2000 }),
    webRoot: env.PEDIGREE_WEB_ROOT || bundledWebRoot(),
    openlineageUrl: env.PEDIGREE_OPENLINEAGE_URL || undefined,
    openlineageApiKey: env.PEDIGREE_OPENLINEAGE_API_KEY || undefined,
    blobStore: env.PEDIGREE_BLOB_STORE || undefined,
    s3Endpoint: env.PEDIGREE_S3_ENDPOINT || undefined,
    directTransferMinBytes: Number(env.PEDIGREE_DIRECT_MIN_BYTES ?? 8 * 1024 ** 2),
    s3TrustChecksums: env.PEDIGREE_S3_TRUST_CHECKSUMS === "1" || env.PEDIGREE_S3_TRUST_CHECKSUMS === "true",
  };
}

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `24h`, `30m`, `90s`, `500ms`, `2d`; a bare number is seconds. */
export function parseDuration(text: string, name: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new Error(`${name} must be a duration such as 24h, 30m or 90s, not '${text}'`);
  return Math.round(Number(match[1]) * (durationUnits[match[2] ?? "s"] as number));
}

import { parseArgs } from "node:util";
import { defaultConfig, type ServerConfig } from "./config";
import { startServer } from "./server";

const usage = `Usage: pedigree server [options]

  --port <n>            port to listen on            (PEDIGREE_PORT, 4000)
  --host <addr>         address to bind              (PEDIGREE_HOST, 127.0.0.1)
  --data-dir <dir>      embedded database and blobs  (PEDIGREE_DATA_DIR, ~/.pedigree/data)
  --database-url <url>  PostgreSQL instead of PGlite (DATABASE_URL)

Environment:
  PEDIGREE_RATE_LIMIT       writes per second per user (all its keys): 'off', '<n>' (burst 10n) or '<n>:<burst>' (200:2000)
  PEDIGREE_MAX_BODY_BYTES   largest JSON request body, larger ones get a 413 (64 MiB)
  PEDIGREE_MAX_BLOB_BYTES   largest uploaded file (50 GiB)
  PEDIGREE_PENDING_TTL_MS   pending versions older are swept with the uploads nothing else uses (86400000: 1 day)
  PEDIGREE_BLOB_STORE       s3://bucket/prefix keeps blobs in an S3-compatible bucket (unset: <data-dir>/blobs)
  PEDIGREE_S3_ENDPOINT      the endpoint of a store other than AWS S3 (MinIO, R2, …), path-style
                            region and credentials: the standard AWS_* variables and profiles
  PEDIGREE_DIRECT_MIN_BYTES files this large go straight between SDK and bucket, presigned (8 MiB)
  PEDIGREE_S3_TRUST_CHECKSUMS  1: accept direct uploads on the store's verified sha256 (AWS S3), no read-back
`;

export function configFromArgs(args: string[], env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "data-dir": { type: "string" },
      "database-url": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const config = defaultConfig(env);
  const port = values.port !== undefined ? Number(values.port) : config.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be a port number, not '${values.port}'`);
  return {
    ...config,
    port,
    host: values.host ?? config.host,
    dataDir: values["data-dir"] ?? config.dataDir,
    databaseUrl: values["database-url"] ?? config.databaseUrl,
  };
}

/** `pedigree server [options]`: serves until SIGINT or SIGTERM. */
export async function runServerCommand(args: string[]) {
  const config = configFromArgs(args);
  const running = await startServer(config, { log: (line) => console.error(`[pedigree] ${line}`) });
  const database = config.databaseUrl
    ? `PostgreSQL (${redact(config.databaseUrl)})`
    : `embedded PGlite in ${config.dataDir}`;
  console.log(`Pedigree server listening on ${running.url}`);
  console.log(`  database: ${database}`);
  console.log(`  blobs: ${config.blobStore ?? `${config.dataDir}/blobs`}`);
  console.log(
    running.createdAdminKey
      ? `  admin API key created and saved to ${running.credentialsFile} (for ${running.url})`
      : `  API keys: existing users kept; the SDK reads its key from ${running.credentialsFile} or PEDIGREE_API_KEY`,
  );
  const stop = async () => {
    await running.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
}

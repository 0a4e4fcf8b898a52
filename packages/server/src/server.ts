import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createApp, type PedigreeApp } from "./app";
import { ProjectAccessCache } from "./auth/access-cache";
import { credentialsPath, saveCredentials } from "./auth/credentials-file";
import { ApiKeyCache } from "./auth/key-cache";
import { bootstrapAdmin } from "./auth/users";
import type { ServerConfig } from "./config";
import { type Clock, systemClock } from "./context";
import { type Database, openDatabase } from "./db/client";
import { startOutboxDelivery } from "./openlineage/outbox";
import { RunOrdinals } from "./runs/ordinals";
import { markSilentRunsCrashed } from "./runs/service";
import { collectGarbage } from "./storage/gc";
import type { BlobStore } from "./store/blob-store";
import { openBlobStore } from "./store/open-blob-store";

/** How often the temporary files of dead uploads are looked for (also once at start). */
const DEAD_UPLOAD_SWEEP_MS = 60_000;

export interface RunningServer {
  url: string;
  /** The app the server serves: `app.request()` reaches it in-process, without the socket. */
  app: PedigreeApp;
  database: Database;
  /** The admin key, when this start created it. */
  createdAdminKey: string | null;
  credentialsFile: string;
  close(): Promise<void>;
}

/**
 * Opens the database (migrating it) and the blob store (`config.blobStore`, unless one is given), creates the
 * admin on first start, and serves the API. On first start
 * the admin key is written to `<pedigreeDir>/credentials` for this server's URL, where the SDK finds it.
 */
export async function startServer(
  config: ServerConfig,
  options: { clock?: Clock; database?: Database; blobs?: BlobStore; log?: (line: string) => void } = {},
): Promise<RunningServer> {
  const log = options.log ?? (() => {});
  const clock = options.clock ?? systemClock;
  const database = options.database ?? (await openDatabase(config));
  const adminKey = await database.transaction((tx) => bootstrapAdmin(tx, config.adminKey));
  const blobs = options.blobs ?? (await openBlobStore(config));
  const removeDeadUploads = () =>
    blobs.removeDeadUploads().catch((error: unknown) => log(`removing dead uploads failed: ${error}`));
  await removeDeadUploads();
  const app = createApp({
    db: database,
    blobs,
    config,
    clock,
    keyCache: new ApiKeyCache(),
    accessCache: new ProjectAccessCache(),
    runOrdinals: new RunOrdinals(),
  });

  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  const url = `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}`;
  const credentialsFile = credentialsPath(config.pedigreeDir);
  if (adminKey) await saveCredentials(config.pedigreeDir, url, adminKey, "admin");

  const sweeper = setInterval(
    () => {
      const silentSince = new Date(clock.now().getTime() - config.heartbeatTimeoutMs);
      database
        .transaction((tx) =>
          markSilentRunsCrashed(tx, silentSince, { emitsOpenLineage: Boolean(config.openlineageUrl) }),
        )
        .catch((error) => log(`crash sweep failed: ${error}`));
    },
    Math.min(60_000, config.heartbeatTimeoutMs),
  );
  sweeper.unref();
  const uploadSweeper = setInterval(removeDeadUploads, DEAD_UPLOAD_SWEEP_MS);
  uploadSweeper.unref();
  let sweeping: Promise<unknown> | null = null;
  const pendingSweeper = setInterval(
    () => {
      // One run at a time here (a long one is not started again underneath itself); across servers, expiry
      // takes an advisory lock and the sweeps work under the blob locks.
      sweeping ??= collectGarbage(database, blobs, {
        now: clock.now(),
        graceMs: config.gcGraceMs,
        pendingTtlMs: config.pendingVersionTtlMs,
        dryRun: false,
        actor: null,
      })
        .catch((error: unknown) => log(`storage maintenance (expiry, pending sweep, gc) failed: ${error}`))
        .finally(() => {
          sweeping = null;
        });
    },
    Math.max(60_000, Math.min(60 * 60_000, config.pendingVersionTtlMs, config.gcIntervalMs)),
  );
  pendingSweeper.unref();
  const outbox = config.openlineageUrl
    ? startOutboxDelivery(database, { url: config.openlineageUrl, apiKey: config.openlineageApiKey, log })
    : undefined;

  return {
    url,
    app,
    database,
    createdAdminKey: adminKey,
    credentialsFile,
    async close() {
      clearInterval(sweeper);
      clearInterval(uploadSweeper);
      clearInterval(pendingSweeper);
      await sweeping;
      await outbox?.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
    },
  };
}

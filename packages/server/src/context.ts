import type { ApiKeyCache } from "./auth/key-cache";
import type { Actor } from "./auth/users";
import type { ServerConfig } from "./config";
import type { Database } from "./db/client";
import type { BlobStore } from "./store/blob-store";

export interface Clock {
  now(): Date;
}

/** What the app is built from: passed in, never imported, so tests build the real app over any database. */
export interface AppDeps {
  db: Database;
  blobs: BlobStore;
  config: Pick<ServerConfig, "maxJsonBodyBytes" | "maxBlobBytes"> & { webRoot?: string | undefined };
  clock: Clock;
  keyCache: ApiKeyCache;
}

export type AppEnv = { Variables: { actor: Actor } };

export const systemClock: Clock = { now: () => new Date() };

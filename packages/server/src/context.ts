import type { Role } from "@pedigree/protocol";
import type { ProjectAccessCache } from "./auth/access-cache";
import type { Actor } from "./auth/actor";
import type { ApiKeyCache } from "./auth/key-cache";
import type { ProjectAccess } from "./auth/project-access";
import type { ServerConfig } from "./config";
import type { Database } from "./db/client";
import type { RunOrdinals } from "./runs/ordinals";
import type { BlobStore } from "./store/blob-store";

export interface Clock {
  now(): Date;
}

/** What the app is built from: passed in, never imported, so tests build the real app over any database. */
export interface AppDeps {
  db: Database;
  blobs: BlobStore;
  config: Pick<
    ServerConfig,
    "maxJsonBodyBytes" | "maxBlobBytes" | "rateLimit" | "gcGraceMs" | "pendingVersionTtlMs"
  > & {
    webRoot?: string | undefined;
    /** The OpenLineage consumer run events are sent to (openlineage/outbox.ts), when one is configured. */
    openlineageUrl?: string | undefined;
  };
  clock: Clock;
  keyCache: ApiKeyCache;
  accessCache: ProjectAccessCache;
  runOrdinals: RunOrdinals;
}

/**
 * `projectAccess` is set by the project gate on /api/v1/projects/:project/* only, `registryRole` by the
 * registry gate on /api/v1/registries/:registry/* only.
 */
export type AppEnv = { Variables: { actor: Actor; projectAccess: ProjectAccess; registryRole: Role | null } };

export const systemClock: Clock = { now: () => new Date() };

export { createApp, type PedigreeApp } from "./app";
export { ApiKeyCache } from "./auth/key-cache";
export { createUserWithKey } from "./auth/users";
export { defaultConfig, type ServerConfig } from "./config";
export { type AppDeps, type Clock, systemClock } from "./context";
export { type Database, openDatabase, openPglite, openPostgres } from "./db/client";
export { type RunningServer, startServer } from "./server";
export type { BlobStore } from "./store/blob-store";
export { createLocalBlobStore } from "./store/local-blob-store";

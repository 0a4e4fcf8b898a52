import type { ErrorBody } from "@pedigree/protocol";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { requireProjectAccess, requireRegistryAccess } from "./auth/access";
import { requireApiKey } from "./auth/middleware";
import type { AppDeps, AppEnv } from "./context";
import { ApiError } from "./errors";
import { rateLimitWrites } from "./limits/rate-limit";
import { accountRoutes } from "./routes/account";
import { artifactRoutes } from "./routes/artifacts";
import { blobRoutes } from "./routes/blobs";
import { keyRoutes } from "./routes/keys";
import { impactRoutes, lineageRoutes } from "./routes/lineage";
import { memberRoutes, registryMemberRoutes } from "./routes/members";
import { registryRoutes } from "./routes/registries";
import { runRoutes } from "./routes/runs";
import { searchRoutes } from "./routes/search";
import { userRoutes } from "./routes/users";
import { versionRoutes } from "./routes/versions";
import { mountWebApp } from "./routes/web";

export const SERVER_VERSION = "0.1.0";

/** The whole HTTP surface, built from its dependencies. */
export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const jsonLimit = bodyLimit({
    maxSize: deps.config.maxJsonBodyBytes,
    onError: () => {
      throw new ApiError(
        "PAYLOAD_TOO_LARGE",
        `request bodies are limited to ${deps.config.maxJsonBodyBytes} bytes (maxJsonBodyBytes)`,
        "body",
      );
    },
  });

  app.get("/api/v1/health", (c) => c.json({ status: "ok" as const, version: SERVER_VERSION, database: deps.db.kind }));
  app.use("/api/v1/*", requireApiKey(deps));
  app.use("/api/v1/*", rateLimitWrites(deps.config.rateLimit));
  app.use("/api/v1/projects/:project/*", requireProjectAccess(deps));
  app.use("/api/v1/registries/:registry/*", requireRegistryAccess(deps));
  for (const path of [
    "/api/v1/projects/*",
    "/api/v1/users/*",
    "/api/v1/users",
    "/api/v1/keys/*",
    "/api/v1/keys",
    "/api/v1/registries/*",
  ]) {
    app.use(path, jsonLimit);
  }
  app.route("/api/v1", accountRoutes(deps));
  app.route("/api/v1/users", userRoutes(deps));
  app.route("/api/v1/keys", keyRoutes(deps));
  app.route("/api/v1/projects/:project/members", memberRoutes(deps));
  app.route("/api/v1/registries/:registry/members", registryMemberRoutes(deps));
  app.route("/api/v1/blobs", blobRoutes(deps));
  app.route("/api/v1/projects/:project/runs", runRoutes(deps));
  app.route("/api/v1/projects/:project/versions", versionRoutes(deps));
  app.route("/api/v1/projects/:project/artifacts", artifactRoutes(deps));
  app.route("/api/v1/registries", registryRoutes(deps));
  app.route("/api/v1/projects/:project/lineage", lineageRoutes(deps));
  app.route("/api/v1/projects/:project/impact", impactRoutes(deps));
  app.route("/api/v1/search", searchRoutes(deps));
  if (deps.config.webRoot) mountWebApp(app, deps.config.webRoot);

  app.notFound((c) =>
    c.json<ErrorBody>(
      { error: { code: "NOT_FOUND", message: `no route for ${c.req.method} ${c.req.path}`, field: "path" } },
      404,
    ),
  );
  app.onError((error, c) => {
    if (error instanceof ApiError) {
      // The rest of a refused large body is not read: the connection cannot carry another request.
      if (error.code === "PAYLOAD_TOO_LARGE") c.header("connection", "close");
      const body: ErrorBody = {
        error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) },
      };
      return c.json(body, error.status as 400);
    }
    if (error instanceof HTTPException && error.status < 500) {
      return c.json<ErrorBody>({ error: { code: "BAD_REQUEST", message: error.message } }, error.status);
    }
    console.error(`[pedigree] ${c.req.method} ${c.req.path} failed:`, error);
    return c.json<ErrorBody>({ error: { code: "INTERNAL", message: "internal server error" } }, 500);
  });
  return app;
}

export type PedigreeApp = ReturnType<typeof createApp>;

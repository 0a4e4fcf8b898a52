import type { ErrorBody } from "@pedigree/protocol";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { AppDeps, AppEnv } from "./context";
import { ApiError } from "./errors";
import { rateLimitWrites } from "./limits/rate-limit";
import { accountRoutes } from "./routes/account";
import { artifactRoutes } from "./routes/artifacts";
import { blobRoutes } from "./routes/blobs";
import { mountApiDocs } from "./routes/docs";
import { keyRoutes } from "./routes/keys";
import { lineageRoutes } from "./routes/lineage";
import { memberRoutes, registryMemberRoutes } from "./routes/members";
import { openLineageExportRoutes, openLineageIngestRoutes } from "./routes/openlineage";
import { registerRoutes } from "./routes/register-route";
import { registryRoutes } from "./routes/registries";
import { runRoutes } from "./routes/runs";
import { searchRoutes } from "./routes/search";
import { serverInfoRoutes } from "./routes/server-info";
import { adminRoutes, auditRoutes, projectSettingsRoutes } from "./routes/storage";
import { userRoutes } from "./routes/users";
import { versionRoutes } from "./routes/versions";
import { mountWebApp } from "./routes/web";

export { SERVER_VERSION } from "./version";

/** The whole HTTP surface, built from its dependencies: every API route comes from the protocol's route table. */
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

  registerRoutes(
    app,
    deps,
    { writes: [rateLimitWrites(deps.config.rateLimit)], jsonBodies: [jsonLimit] },
    {
      ...serverInfoRoutes(deps),
      ...accountRoutes(deps),
      ...userRoutes(deps),
      ...keyRoutes(deps),
      ...memberRoutes(deps),
      ...registryMemberRoutes(deps),
      ...blobRoutes(deps),
      ...runRoutes(deps),
      ...openLineageExportRoutes(deps),
      ...openLineageIngestRoutes(deps),
      ...versionRoutes(deps),
      ...artifactRoutes(deps),
      ...registryRoutes(deps),
      ...lineageRoutes(deps),
      ...projectSettingsRoutes(deps),
      ...auditRoutes(deps),
      ...adminRoutes(deps),
      ...searchRoutes(deps),
    },
  );
  mountApiDocs(app);
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

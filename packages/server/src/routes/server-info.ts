import { openApiDocument } from "@pedigree/protocol";
import type { AppDeps } from "../context";
import { SERVER_VERSION } from "../version";
import type { RouteHandlers } from "./register-route";

/** /api/v1/health and /api/v1/openapi.json: what any client may ask before it has a key. */
export function serverInfoRoutes(deps: AppDeps): RouteHandlers<"health" | "openApiDocument"> {
  let document: Record<string, unknown> | undefined;
  return {
    health: (c) => c.json({ status: "ok" as const, version: SERVER_VERSION, database: deps.db.kind }),
    openApiDocument: (c) => {
      document ??= openApiDocument({ version: SERVER_VERSION });
      return c.json(document);
    },
  };
}

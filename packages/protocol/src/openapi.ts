import { z } from "zod";
import * as artifacts from "./artifacts";
import * as auth from "./auth";
import * as common from "./common";
import { ErrorBody } from "./errors";
import * as lineage from "./lineage";
import * as openlineage from "./openlineage";
import * as registry from "./registry";
import { type AnyRoute, API_PREFIX, type ErrorStatus, errorStatusesOf, isBinary } from "./route-definition";
import { OpenApiDocument, routeList } from "./routes";
import * as runs from "./runs";
import * as storage from "./storage";

/**
 * The OpenAPI 3.1 document of the route table, built with zod's own JSON Schema output (draft 2020-12, the
 * dialect of OpenAPI 3.1). Request bodies, queries and parameters are described as clients send them
 * (`io: "input"`: defaults make a field optional), answers as the server sends them. Every body and answer
 * that the protocol exports under a name is a component of that name.
 */
export function openApiDocument(options: { version: string }): Record<string, unknown> {
  const names = exportedSchemaNames();
  const outputs = new Map<z.ZodType, string>([[ErrorBody, "ErrorBody"]]);
  const inputs = new Map<z.ZodType, string>();
  for (const { route } of routeList) {
    for (const schema of Object.values(route.responses)) {
      if (schema && !isBinary(schema) && names.has(schema)) outputs.set(schema, names.get(schema) as string);
    }
    if (route.body && !isBinary(route.body) && names.has(route.body)) {
      const name = names.get(route.body) as string;
      inputs.set(route.body, outputs.has(route.body) ? `${name}Input` : name);
    }
  }
  const schemas = { ...componentSchemas(outputs, "output"), ...componentSchemas(inputs, "input") };
  const reference = (schema: z.ZodType, io: "input" | "output") => {
    const name = (io === "input" ? inputs : outputs).get(schema);
    return name ? { $ref: `#/components/schemas/${name}` } : jsonSchema(schema, io);
  };

  const paths: Record<string, Record<string, unknown>> = {};
  for (const { name, route } of routeList) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = operation(name, route, reference);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Pedigree API",
      version: options.version,
      description:
        "Runs, artifact versions, their lineage and registries. Every route but `health` and `openapi.json` " +
        "needs `Authorization: Bearer <API key>`; each operation names the permission it needs " +
        "(`x-pedigree-permission`). Errors are `ErrorBody`.",
    },
    servers: [{ url: API_PREFIX }],
    security: [{ bearer: [] }],
    tags: [...new Set(routeList.map(({ route }) => tagOf(route)))].map((tag) => ({ name: tag })),
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "A Pedigree API key" } },
      schemas,
      responses: Object.fromEntries(
        Object.entries(errorDescriptions).map(([status, description]) => [
          errorResponseName(Number(status) as ErrorStatus),
          { description, content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" } } } },
        ]),
      ),
    },
  };
}

function operation(
  name: string,
  route: AnyRoute,
  reference: (schema: z.ZodType, io: "input" | "output") => unknown,
): Record<string, unknown> {
  const parameters = [
    ...Object.entries(route.params ?? {}).map(([param, schema]) => ({
      name: param,
      in: "path",
      required: true,
      schema: jsonSchema(schema, "input"),
    })),
    ...Object.entries(route.query?.shape ?? {}).map(([param, schema]) => ({
      name: param,
      in: "query",
      required: !(schema as z.ZodType).safeParse(undefined).success,
      schema: jsonSchema(schema as z.ZodType, "input"),
    })),
  ];
  const responses: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(route.responses)) {
    responses[status] =
      schema === null
        ? { description: "Done; no content" }
        : isBinary(schema)
          ? { description: "The bytes", content: { "application/octet-stream": { schema: binarySchema } } }
          : { description: "Done", content: { "application/json": { schema: reference(schema, "output") } } };
  }
  for (const status of errorStatusesOf(route)) {
    responses[String(status)] = { $ref: `#/components/responses/${errorResponseName(status)}` };
  }
  return {
    operationId: name,
    summary: route.summary,
    description: `Needs \`${route.permission}\`.`,
    tags: [tagOf(route)],
    "x-pedigree-permission": route.permission,
    ...(route.permission === "public" ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: isBinary(route.body)
              ? { "application/octet-stream": { schema: binarySchema } }
              : { "application/json": { schema: reference(route.body, "input") } },
          },
        }
      : {}),
    responses,
  };
}

const binarySchema = { type: "string", contentMediaType: "application/octet-stream" };

const errorDescriptions: Record<ErrorStatus, string> = {
  400: "The input is not valid: `field` names the first problem",
  401: "No API key, or one that is unknown, revoked or expired",
  403: "The caller's role does not allow this",
  404: "Not found, or in a project the caller has no role in",
  409: "Conflicts with the current state",
  410: "Deleted: a tombstone whose files are gone",
  413: "The body is larger than the server accepts",
  429: "Too many writes; retry after `Retry-After` seconds",
};
const errorResponseName = (status: ErrorStatus) => `Error${status}`;

/** Operations are grouped by resource: `runs`, `versions`, `registries`, …; `server` for the rest. */
function tagOf(route: AnyRoute): string {
  const [first, , resource] = route.path.split("/").filter(Boolean);
  if (first === "projects" && resource) return resource === "impact" ? "lineage" : resource;
  if (first === "registries" || first === "users" || first === "keys" || first === "blobs") return first;
  return "server";
}

/** Names of the schemas the protocol exports, by schema: what a component is called. */
function exportedSchemaNames(): Map<z.ZodType, string> {
  const names = new Map<z.ZodType, string>();
  for (const module of [common, auth, artifacts, runs, lineage, registry, storage, openlineage, { OpenApiDocument }]) {
    for (const [name, value] of Object.entries(module)) {
      if (value instanceof z.ZodType && !names.has(value)) names.set(value, name);
    }
  }
  return names;
}

function componentSchemas(named: Map<z.ZodType, string>, io: "input" | "output"): Record<string, unknown> {
  const components = z.registry<{ id: string }>();
  for (const [schema, id] of named) components.add(schema, { id });
  const { schemas } = z.toJSONSchema(components, {
    io,
    unrepresentable: "any",
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Record<string, unknown>> };
  return Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, withoutDialect(schema)]));
}

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  return withoutDialect(z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>);
}

/** OpenAPI 3.1 sets the dialect for the whole document: a component carries no `$schema` or `$id` of its own. */
function withoutDialect(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return rest;
}

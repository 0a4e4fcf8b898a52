import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { Limits, ProjectName } from "@pedigree/protocol";
import type { Context } from "hono";
import type { z } from "zod";
import type { DeleteContext } from "../artifacts/deletion";
import type { AppDeps, AppEnv } from "../context";
import { ApiError, badRequest, parseInput } from "../errors";
import type { WriteContext } from "../write-context";

/** The request's JSON body, parsed by a protocol schema; malformed JSON is a 400 on `body`. */
export async function jsonBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.output<S>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw badRequest("body", "the body is not valid JSON");
  }
  return parseJsonValue(body, schema);
}

const gunzipAsync = promisify(gunzip);

/** The JSON body, parsed by a protocol schema, gunzipped first when `Content-Encoding: gzip` says so. */
export async function maybeGzippedJsonBody<S extends z.ZodType>(
  c: Context<AppEnv>,
  schema: S,
  maxBytes: number,
): Promise<z.output<S>> {
  return parseJsonValue(await decodedJson(c, maxBytes), schema);
}

/** The JSON body, gunzipped when `Content-Encoding: gzip` says so; decompressed, it may be `maxBytes` at most. */
export async function decodedJson(c: Context<AppEnv>, maxBytes: number): Promise<unknown> {
  const encoding = (c.req.header("content-encoding") ?? "identity").trim().toLowerCase();
  let text: string;
  if (encoding === "identity") {
    text = await c.req.text();
  } else if (encoding === "gzip") {
    const raw = Buffer.from(await c.req.arrayBuffer());
    try {
      text = (await gunzipAsync(raw, { maxOutputLength: maxBytes })).toString("utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
        throw new ApiError("PAYLOAD_TOO_LARGE", `decompressed bodies are limited to ${maxBytes} bytes`, "body");
      }
      throw badRequest("body", "the body is not valid gzip");
    }
  } else {
    throw badRequest("content-encoding", `Content-Encoding '${encoding}' is not supported (gzip is)`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("body", "the body is not valid JSON");
  }
}

/** A parsed JSON body checked by a protocol schema, refusing text PostgreSQL cannot store first. */
export function parseJsonValue<S extends z.ZodType>(body: unknown, schema: S, fieldPrefix = ""): z.output<S> {
  const unstorable = findUnstorableText(body);
  if (unstorable !== null) {
    const field = [fieldPrefix, unstorable].filter(Boolean).join(".") || "body";
    throw badRequest(field, `${field}: text may not hold NUL characters or unpaired surrogates`);
  }
  return parseInput(schema, body, fieldPrefix);
}

/**
 * PostgreSQL cannot store NUL in text or jsonb, nor an unpaired surrogate escape in jsonb: such input is
 * refused up front (a 400 naming the field) rather than failing inside the database. Answers the dotted
 * path of the first offending string or key, or null. Iterative, so no nesting can overflow it; past
 * `maxJsonDepth` it stops looking, as every schema refuses such depth anyway.
 */
function findUnstorableText(root: unknown): string | null {
  const pending: { value: unknown; path: string[] }[] = [{ value: root, path: [] }];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const { value, path } = item;
    if (typeof value === "string") {
      if (!isStorableText(value)) return path.join(".");
    } else if (value !== null && typeof value === "object" && path.length <= Limits.maxJsonDepth) {
      const entries = Object.entries(value);
      for (let index = entries.length - 1; index >= 0; index--) {
        const [key, child] = entries[index] as [string, unknown];
        if (!isStorableText(key)) return [...path, key].join(".");
        pending.push({ value: child, path: [...path, key] });
      }
    }
  }
  return null;
}

function isStorableText(text: string): boolean {
  return !text.includes("\0") && !/\p{Cs}/u.test(text);
}

/**
 * The query string, parsed by a protocol schema; a repeated parameter is an array. Text PostgreSQL cannot
 * hold is a 400 naming its parameter.
 */
export function queryOf<S extends z.ZodType>(c: Context<AppEnv>, schema: S): z.output<S> {
  const query = Object.fromEntries(
    Object.entries(c.req.queries()).map(([name, values]) => [name, values.length === 1 ? values[0] : values]),
  );
  const unstorable = findUnstorableText(query);
  if (unstorable !== null) {
    throw badRequest(unstorable, `${unstorable}: text may not hold NUL characters or unpaired surrogates`);
  }
  return parseInput(schema, query);
}

export function projectOf(c: Context<AppEnv>): string {
  return parseInput(ProjectName, c.req.param("project"), "project");
}

export function writeContext(c: Context<AppEnv>, deps: AppDeps): WriteContext {
  return {
    project: projectOf(c),
    actor: c.get("actor").userId,
    actorIsAdmin: c.get("actor").isAdmin,
    now: () => deps.clock.now(),
    claimsProject: c.get("projectAccess")?.claimsProject ?? false,
    projectExists: c.get("projectAccess")?.projectExists ?? false,
    emitsOpenLineage: Boolean(deps.config.openlineageUrl),
  };
}

export function deleteContext(c: Context<AppEnv>, deps: AppDeps): DeleteContext {
  return { project: projectOf(c), actor: c.get("actor"), now: () => deps.clock.now() };
}

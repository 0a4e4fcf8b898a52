import { ProjectName } from "@pedigree/protocol";
import type { Context } from "hono";
import type { z } from "zod";
import type { WriteContext } from "../artifacts/versions";
import type { AppDeps, AppEnv } from "../context";
import { badRequest, parseInput } from "../errors";

/** The request's JSON body, parsed by a protocol schema; malformed JSON is a 400 on `body`. */
export async function jsonBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.output<S>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw badRequest("body", "the body is not valid JSON");
  }
  return parseInput(schema, body);
}

export function queryOf<S extends z.ZodType>(c: Context<AppEnv>, schema: S): z.output<S> {
  return parseInput(schema, c.req.query());
}

export function projectOf(c: Context<AppEnv>): string {
  return parseInput(ProjectName, c.req.param("project"), "project");
}

export function writeContext(c: Context<AppEnv>, deps: AppDeps): WriteContext {
  return { project: projectOf(c), actor: c.get("actor").userId, now: () => deps.clock.now() };
}

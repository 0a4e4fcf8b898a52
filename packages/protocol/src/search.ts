import { z } from "zod";
import { OffsetPage, ProjectName, SearchText } from "./common";

export const SearchKind = z.enum(["run", "artifact", "version", "collection"]);
export type SearchKind = z.infer<typeof SearchKind>;

/**
 * `GET /api/v1/search?q=&kinds=&project=&limit=`: runs, artifacts, versions and collections the caller can read
 * whose name starts with `q` (case-insensitive; a version matches by its artifact's name, `name:vN` or an alias),
 * names starting with `q` first, then names containing it.
 */
export const SearchQuery = z.object({
  q: SearchText,
  kinds: z
    .union([z.array(z.string()), z.string()])
    .transform((value) => (Array.isArray(value) ? value : value.split(",")).map((item) => item.trim()).filter(Boolean))
    .pipe(z.array(SearchKind).max(4))
    .optional(),
  /** Only this project (collections are searched in every registry the caller reads). */
  project: ProjectName.optional(),
  limit: OffsetPage.shape.limit.unwrap().max(100, "search answers at most 100 hits per kind").default(10),
});
export type SearchQueryInput = z.input<typeof SearchQuery>;

export const SearchHit = z.object({
  kind: SearchKind,
  /** Run id, version id, `project/artifact` or `registry/collection`. */
  id: z.string(),
  /** What to show: run name, artifact name, `artifact:vN`, collection name. */
  name: z.string(),
  /** Job type, artifact type or collection type. */
  type: z.string(),
  /** Project of a run, artifact or version; registry of a collection. */
  scope: z.string(),
});
export type SearchHit = z.infer<typeof SearchHit>;

export const SearchResults = z.object({
  q: z.string(),
  /** Per kind, how many match in all (the hits list at most `limit` of each). */
  totals: z.record(SearchKind, z.number().int()),
  hits: z.array(SearchHit),
});
export type SearchResults = z.infer<typeof SearchResults>;

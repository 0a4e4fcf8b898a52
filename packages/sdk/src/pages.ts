/**
 * Paged lists: every list method answers one `Page` (`limit` items from `offset`, and how many match in all);
 * its `iterate…` twin walks every matching item, fetching a page at a time as the loop goes.
 */
import type { ArtifactListQuery, CollectionListQuery, RunListQuery } from "@pedigree/protocol";
import type { z } from "zod";

/** One page of a list: `items` from the offset asked for, and `total`, how many match over all pages. */
export interface Page<T> {
  items: T[];
  total: number;
}

export interface PageOptions {
  /** Items per page (default 50; at most 1000). */
  limit?: number | undefined;
  /** Items to skip (default 0). */
  offset?: number | undefined;
}

export interface IterateOptions {
  /** Items fetched per request (default 100; at most 1000). */
  pageSize?: number | undefined;
}

/** Runs by job type, state, tag, and `q`: name contains (case-insensitive). */
export type RunFilters = Pick<RunListQuery, "q" | "jobType" | "state" | "tag">;

/** Artifacts by type and `q` (name contains); those with only generated versions show with `includeGenerated`. */
export type ArtifactFilters = Pick<z.input<typeof ArtifactListQuery>, "q" | "type"> & {
  includeGenerated?: boolean | undefined;
};

/** Versions of an artifact by `q`: `vN`, an alias or words of the description. */
export interface VersionFilters {
  q?: string | undefined;
}

/** Runs that used or logged a version, by `q`: run name contains. */
export interface VersionRunFilters {
  q?: string | undefined;
}

/** Collections by type, tag, name prefix and `q` (name contains). */
export type CollectionFilters = Omit<CollectionListQuery, "cursor" | "limit" | "offset">;

/** Items of one page when `limit` is not given. */
export const DEFAULT_LIMIT = 50;
/** Items fetched per request by the `iterate…` methods when `pageSize` is not given. */
export const DEFAULT_PAGE_SIZE = 100;

/** Every item of an offset-paged list, `pageSize` at a time; items added while the loop runs may show twice. */
export async function* itemsByOffset<T>(
  fetchPage: (page: { limit: number; offset: number }) => Promise<Page<T>>,
  pageSize = DEFAULT_PAGE_SIZE,
): AsyncGenerator<T> {
  for (let offset = 0; ; ) {
    const page = await fetchPage({ limit: pageSize, offset });
    yield* page.items;
    offset += page.items.length;
    if (page.items.length === 0 || offset >= page.total) return;
  }
}

/** Every item of a cursor-paged list: stable while items are added (each page starts after the last item seen). */
export async function* itemsByCursor<T>(
  fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

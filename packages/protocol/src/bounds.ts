import { z } from "zod";

/**
 * What the database can hold, as schemas. Every number, date and cursor a request carries is bounded by the
 * column it is compared with or written to, so the request is refused up front (a 400 naming the field)
 * instead of PostgreSQL refusing the value inside a query (a 500).
 */

/** `integer` (int4) columns: version numbers (`vN`), run ordinals, history `seq`, counts. */
export const PG_INT4_MAX = 2_147_483_647;
/**
 * Sizes and row ids are `bigint` (int8) columns read as JavaScript numbers: exact up to 2^53 - 1, well inside
 * int8, so a sum of sizes that stays within it also fits the column.
 */
export const MAX_SAFE_SIZE = Number.MAX_SAFE_INTEGER;

/**
 * The instants both sides read back unchanged: PostgreSQL's timestamptz has no year 0 and does not parse the
 * six-digit years (`+010000-…`) JavaScript's `toISOString` writes past 9999, so a date is within years 1 to
 * 9999 once turned to UTC (an offset can move `0001-01-01T00:00:00+01:00` into year 0).
 */
export const MIN_TIMESTAMP = "0001-01-01T00:00:00.000Z";
export const MAX_TIMESTAMP = "9999-12-31T23:59:59.999Z";
const minTime = Date.parse(MIN_TIMESTAMP);
const maxTime = Date.parse(MAX_TIMESTAMP);

/** Whether `date` lies in the range both PostgreSQL and JavaScript's Date store and read back. */
export function isStorableTime(date: Date): boolean {
  const time = date.getTime();
  return time >= minTime && time <= maxTime;
}

/** An ISO 8601 date-time with `Z` or an offset, between `MIN_TIMESTAMP` and `MAX_TIMESTAMP` in UTC. */
export const Timestamp = z
  .string()
  .datetime({ offset: true })
  .refine((text) => isStorableTime(new Date(text)), `dates are between ${MIN_TIMESTAMP} and ${MAX_TIMESTAMP} (UTC)`)
  .meta({ examples: [MIN_TIMESTAMP, MAX_TIMESTAMP] });

/** A count in bytes: a file's size, or the sum of a manifest's sizes. */
export const ByteSize = z.number().int().min(0).max(MAX_SAFE_SIZE, `sizes are at most ${MAX_SAFE_SIZE} bytes`);

/** A non-negative integer that fits an int4 column, from a query string (`offset=`). */
export const QueryInt4 = z.coerce.number().int().min(0).max(PG_INT4_MAX, `at most ${PG_INT4_MAX}`);

const VERSION_NUMBER = /^v(\d+)$/;
export const versionNumberLimit = `version numbers are at most v${PG_INT4_MAX}`;

/**
 * The N of a `vN` selector, or undefined for any other selector (an alias, `latest`, a version id). N can be
 * past what versions are numbered (even Infinity for 400 digits): check it with `isStorableVersionNumber`.
 */
export function versionNumberOf(selector: string): number | undefined {
  const match = VERSION_NUMBER.exec(selector);
  return match ? Number(match[1]) : undefined;
}

export const isStorableVersionNumber = (index: number) => index <= PG_INT4_MAX;

/** Whether a selector is not a `vN`, or a `vN` within what versions are numbered. */
export function hasStorableVersionNumber(selector: string): boolean {
  const index = versionNumberOf(selector);
  return index === undefined || isStorableVersionNumber(index);
}

/** `vN`: a version number of an artifact or of a registry collection. */
export const VersionNumber = z
  .string()
  .regex(VERSION_NUMBER, "versions are vN")
  .refine(hasStorableVersionNumber, versionNumberLimit)
  .meta({ examples: ["v0", `v${PG_INT4_MAX}`] });

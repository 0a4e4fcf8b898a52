import {
  decodeHistoryCursor,
  encodeHistoryCursor,
  HistoryQuery,
  MAX_SAFE_SIZE,
  MAX_TIMESTAMP,
  MIN_TIMESTAMP,
  Ref,
  Timestamp,
  VersionNumber,
} from "@pedigree/protocol";
import { describe, expect, it } from "vitest";

/** The protocol's bounds: what timestamptz, int4 and JavaScript numbers hold, and nothing past it. */
describe("bounds: wire schemas", () => {
  it("takes dates from year 1 to year 9999 in UTC, whatever the offset", () => {
    for (const date of [MIN_TIMESTAMP, MAX_TIMESTAMP, "0001-01-01T01:00:00+01:00", "9999-12-31T22:59:59-01:00"]) {
      expect(Timestamp.safeParse(date).success, date).toBe(true);
    }
    for (const date of ["0000-12-31T23:59:59.999Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]) {
      expect(Timestamp.safeParse(date).success, date).toBe(false);
    }
  });

  it("takes vN up to v2147483647, alone and in refs", () => {
    expect(VersionNumber.safeParse("v2147483647").success).toBe(true);
    expect(VersionNumber.safeParse("v2147483648").success).toBe(false);
    expect(Ref.safeParse("model/clf:v2147483647").success).toBe(true);
    expect(Ref.safeParse("ds:v2147483648").success).toBe(false);
    expect(Ref.safeParse(`ds:v${"9".repeat(400)}`).success).toBe(false);
    expect(Ref.safeParse("ds:v2147483648x").success).toBe(true);
  });

  it("round-trips history cursors at both ends and refuses any other text", () => {
    for (const position of [
      { at: new Date(MIN_TIMESTAMP), id: MAX_SAFE_SIZE },
      { at: new Date(MAX_TIMESTAMP), id: 0 },
    ]) {
      expect(decodeHistoryCursor(encodeHistoryCursor(position))).toEqual(position);
      expect(HistoryQuery.parse({ cursor: encodeHistoryCursor(position) }).cursor).toEqual(position);
    }
    const cursorOf = (text: string) => Buffer.from(text).toString("base64url");
    for (const text of ["0000-01-01T00:00:00.000Z|1", "2026-01-01T00:00:00Z|9007199254740992", "1|1", "x", ""]) {
      expect(decodeHistoryCursor(cursorOf(text)), text).toBeUndefined();
    }
    expect(decodeHistoryCursor("%%")).toBeUndefined();
    expect(HistoryQuery.safeParse({ cursor: cursorOf("1|1") }).success).toBe(false);
  });
});

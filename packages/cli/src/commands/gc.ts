import type { GcResult } from "@pedigree/sdk";
import { type Command, parseClientArgs, print } from "./command";

const usage =
  "Usage: pedigree gc [--dry-run] [--json]\n" +
  "  Expires versions past their ttl, sweeps pending versions never committed and the temporary files of dead\n" +
  "  uploads, and frees the blobs no live version references (after the server's PEDIGREE_GC_GRACE).\n" +
  "  --dry-run  only count the blobs and bytes that would be freed. Needs a server admin's key.";

export const gcCommand: Command = {
  summary: "garbage collection: free the blobs no live version references (--dry-run counts)",
  async run(args) {
    const parsed = parseClientArgs(args, usage, { "dry-run": { type: "boolean" } });
    if (!parsed) return 0;
    const result = await parsed.client.collectGarbage({ dryRun: Boolean(parsed.values["dry-run"]) });
    print(parsed.json, result, () => describeGc(result));
    return 0;
  },
};

function describeGc(result: GcResult): string {
  const verb = result.dryRun ? "would free" : "freed";
  const lines = [`${verb} ${result.blobs} blob(s), ${formatBytes(result.bytes)} (${result.bytes} bytes)`];
  lines.push(`${result.dryRun ? "would sweep" : "swept"} ${result.pendingVersions} pending version(s) never committed`);
  if (!result.dryRun) {
    lines.push(`expired ${result.expiredVersions} version(s); removed ${result.tempFiles} temporary upload file(s)`);
  }
  return lines.join("\n");
}

function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

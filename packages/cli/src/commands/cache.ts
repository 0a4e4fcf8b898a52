import { cacheInfo, cleanupCache, parseByteSize } from "@pedigree/sdk";
import { type Command, parseClientArgs, print, table } from "./command";

const usage = `Usage: pedigree cache info [--json]
       pedigree cache cleanup [--max-size <size>] [--json]

The download cache in $PEDIGREE_DIR/cache: every downloaded file once, by sha256, hard-linked (read-only) or
copied into download directories, and the refs resolved on this machine (for useArtifact while the server is
unreachable). It is bounded by PEDIGREE_CACHE_MAX_BYTES (default 10GB), least recently used files evicted first.
cleanup evicts down to --max-size (e.g. 10GB, 512MiB, 0; default the bound). Evicting a file still linked into
a download directory frees its room only once that link is removed too.`;

export const cacheCommand: Command = {
  summary: "what the download cache holds; evict it down to a size",
  async run(args) {
    const parsed = parseClientArgs(args, usage, { "max-size": { type: "string" } });
    if (!parsed) return 0;
    const [action] = parsed.positionals;
    if (action === "info") {
      const info = await cacheInfo();
      print(parsed.json, info, () =>
        table([
          ["dir", info.dir],
          ["files", String(info.blobs)],
          ["size", formatBytes(info.bytes)],
          ["max size", formatBytes(info.maxBytes)],
          ["refs", String(info.refs)],
        ]),
      );
      return 0;
    }
    if (action === "cleanup") {
      const given = parsed.values["max-size"] as string | undefined;
      const maxBytes = given === undefined ? undefined : parseByteSize(given);
      if (given !== undefined && maxBytes === undefined) {
        throw new Error(`--max-size takes a size such as 10GB, 512MiB or 0, not '${given}'`);
      }
      const result = await cleanupCache(maxBytes === undefined ? {} : { maxBytes });
      print(
        parsed.json,
        result,
        () =>
          `removed ${result.removedBlobs} file(s), ${formatBytes(result.freedBytes)}; the cache holds ${result.blobs} file(s), ${formatBytes(result.bytes)}`,
      );
      return 0;
    }
    process.stderr.write(`${usage}\n`);
    return 2;
  },
};

function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]} (${bytes} bytes)`;
}

import type { UserConfig } from "tsdown";

/**
 * How every published package is built: ESM for Node ≥ 20.19, one output file per source file (so relative
 * paths such as the server's migrations folder hold in dist/ as in src/, and lazy imports stay separate files),
 * `.d.ts` beside each file, source maps with the sources inlined. Dependencies stay external.
 */
export const packageBuild = {
  entry: ["src/index.ts"],
  platform: "node",
  unbundle: true,
  fixedExtension: false,
  sourcemap: true,
  dts: { sourcemap: false },
  checks: { pluginTimings: false },
} satisfies UserConfig;

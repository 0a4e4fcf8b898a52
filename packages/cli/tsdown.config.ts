import { defineConfig } from "tsdown";
import { packageBuild } from "../../tsdown.base";

/**
 * The `pedigree` bin. The source's hashbang runs it under tsx in this workspace; the built file is plain
 * JavaScript, so its hashbang asks for plain Node (same line count: the source map still fits).
 */
export default defineConfig({
  ...packageBuild,
  entry: ["src/main.ts"],
  dts: false,
  plugins: [
    {
      name: "plain-node-hashbang",
      renderChunk: (code) => ({ code: code.replace(/^#!.*/, "#!/usr/bin/env node"), map: null }),
    },
  ],
});

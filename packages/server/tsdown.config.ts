import { existsSync } from "node:fs";
import { defineConfig } from "tsdown";
import { packageBuild } from "../../tsdown.base";

/** The built web app ships inside the server package, in dist/web, where `bundledWebRoot` looks first. */
if (!existsSync("../web/dist/index.html")) throw new Error("build @pedigree/web first: `pnpm build` builds both");

export default defineConfig({ ...packageBuild, copy: [{ from: "../web/dist", to: "dist", rename: "web" }] });

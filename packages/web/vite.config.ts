import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/** Built into dist/, which the Pedigree server serves at `/`; `vite` alone proxies the API to a local server. */
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 3000 },
  server: { proxy: { "/api": process.env.PEDIGREE_URL ?? "http://127.0.0.1:4000" } },
});

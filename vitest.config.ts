import { defineConfig } from "vitest/config";

/**
 * Five projects: SDK unit tests (msw, no server), every test that touches the database twice — once on
 * embedded PGlite and once on the PostgreSQL at PEDIGREE_TEST_DATABASE_URL (127.0.0.1:5432) — the web
 * app's end-to-end tests in headless Chromium (`browser`: builds packages/web once, then serves it), and
 * `package`: `pnpm build`, the packed packages installed with npm into a fresh project and used there.
 */
const databaseTests = [
  "test/server/**/*.test.ts",
  "test/sdk/**/*.test.ts",
  "test/examples/**/*.test.ts",
  "test/cli/**/*.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { extends: true, test: { name: "pglite", include: databaseTests, env: { PEDIGREE_TEST_DB: "pglite" } } },
      {
        extends: true,
        test: {
          name: "postgres",
          include: databaseTests,
          env: { PEDIGREE_TEST_DB: "postgres" },
          globalSetup: ["test/fixtures/postgres-template.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "browser",
          include: ["test/e2e/**/*.test.ts"],
          env: { PEDIGREE_TEST_DB: "pglite" },
          globalSetup: ["test/fixtures/web-build.ts"],
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: "package",
          include: ["test/package/**/*.test.ts"],
          // A group of its own, so no other test runs beside it: it rebuilds packages/web/dist, which the
          // browser tests serve (vitest runs groupOrder 0, then 1, then files without file parallelism).
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
        },
      },
    ],
  },
});

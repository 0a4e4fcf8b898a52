import { defineConfig } from "vitest/config";

/**
 * Four projects: SDK unit tests (msw, no server), every test that touches the database twice — once on
 * embedded PGlite and once on the PostgreSQL at PEDIGREE_TEST_DATABASE_URL (127.0.0.1:5432) — and the web
 * app's end-to-end tests in headless Chromium (`browser`: builds packages/web once, then serves it).
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
    ],
  },
});

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../fixtures/server-process";

/**
 * The packages as a user gets them: `pnpm build`, `pnpm pack` of every published package, the tarballs
 * installed with npm into fresh projects outside this repository (their dependencies from the registry), and
 * used there with plain Node: `npx pedigree server` with a fresh HOME, the zoo scenario through the installed
 * SDK, the installed types under strict TypeScript, publint and attw on every tarball.
 */
const exec = promisify(execFile);
const repo = resolve(import.meta.dirname, "../..");
const published = ["protocol", "sdk", "server", "cli"] as const;
type Published = (typeof published)[number];

let work: string;
const tarballs = {} as Record<Published, string>;
/** A project with only the SDK (and the protocol it depends on) installed. */
let sdkOnly: string;
/** A project with every package installed, as `npx @pedigree/cli server` would have it. */
let app: string;
let home: string;
let server: { url: string; child: ChildProcess; output: () => string };
let sdkInstallMs: number;

/** Environment for the user's shell: none of this workspace's pnpm, vitest or PEDIGREE_* settings. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_|PNPM_|PEDIGREE_|VITEST|NODE_OPTIONS$|DATABASE_URL$)/.test(key)) env[key] = value;
  }
  return { ...env, npm_config_update_notifier: "false", ...extra };
}

const run = (command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) =>
  exec(command, args, { env: userEnv(), maxBuffer: 64 * 1024 * 1024, ...options });

async function npmInstall(project: string, specs: string[]) {
  await mkdir(project, { recursive: true });
  await writeFile(
    join(project, "package.json"),
    JSON.stringify({ name: "user-project", private: true, type: "module" }),
  );
  await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", ...specs], {
    cwd: project,
  });
}

async function startInstalledServer(cwd: string): Promise<typeof server> {
  const port = await freePort();
  const child = spawn("npx", ["pedigree", "server", "--port", String(port)], {
    cwd,
    env: userEnv({ HOME: home }),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`npx pedigree server exited with ${code}: ${output}`)));
  });
  return { url, child, output: () => output };
}

const tarList = async (tarball: string) =>
  (await run("tar", ["tzf", tarball], { cwd: work })).stdout.trim().split("\n").sort();
const tarManifest = async (tarball: string) =>
  JSON.parse((await run("tar", ["xzf", tarball, "-O", "package/package.json"], { cwd: work })).stdout);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "pedigree-package-"));
  home = join(work, "home");
  await mkdir(home);
  const phases: string[] = [];
  let phaseStart = performance.now();
  const phase = (name: string) => {
    phases.push(`${name} ${((performance.now() - phaseStart) / 1000).toFixed(1)} s`);
    phaseStart = performance.now();
  };
  await run("pnpm", ["build"], { cwd: repo });
  phase("build");
  await Promise.all(
    published.map(async (name) => {
      const { stdout } = await run("pnpm", ["pack", "--pack-destination", work], {
        cwd: join(repo, "packages", name),
      });
      tarballs[name] = stdout.trim().split("\n").at(-1) as string;
    }),
  );
  phase("pack");
  sdkOnly = join(work, "sdk-only");
  app = join(work, "app");
  const startedAt = performance.now();
  await Promise.all([
    npmInstall(sdkOnly, [tarballs.sdk, tarballs.protocol]).then(() => {
      sdkInstallMs = performance.now() - startedAt;
    }),
    npmInstall(app, [...published.map((name) => tarballs[name]), "@types/node@^20.19"]),
  ]);
  phase("npm install");
  server = await startInstalledServer(app);
  phase("server start");
  const sizes = published.map((name) => `${name} ${(statSync(tarballs[name]).size / 1000).toFixed(1)} kB`);
  console.log(`packed: ${sizes.join(", ")}; npm install of the SDK alone: ${(sdkInstallMs / 1000).toFixed(1)} s`);
  console.log(`setup: ${phases.join(", ")}`);
}, 300_000);

afterAll(async () => {
  if (server?.child.pid && server.child.exitCode === null) {
    const exited = new Promise((resolve) => server.child.once("exit", resolve));
    process.kill(-server.child.pid, "SIGTERM");
    await exited;
  }
  if (work) await rm(work, { recursive: true, force: true });
});

describe("packages: packed manifests", () => {
  it("name real dependency ranges and point exports, types and bin at built files in the tarball", async () => {
    for (const name of published) {
      const manifest = await tarManifest(tarballs[name]);
      const files = new Set(await tarList(tarballs[name]));
      expect(JSON.stringify(manifest), name).not.toMatch(/workspace:|\btsx\b/);
      expect(manifest.private, name).toBeUndefined();
      expect(manifest).toMatchObject({ license: "MIT", engines: { node: ">=20.19" }, type: "module" });
      expect(manifest.repository.directory).toBe(`packages/${name}`);
      for (const dependency of Object.keys(manifest.dependencies).filter((dep) => dep.startsWith("@pedigree/"))) {
        expect(manifest.dependencies[dependency], `${name} → ${dependency}`).toBe("^0.1.0");
      }
      const targets =
        name === "cli" ? Object.values(manifest.bin) : [manifest.exports["."].types, manifest.exports["."].default];
      for (const target of targets as string[])
        expect(files, `${name}: ${target}`).toContain(`package/${target.slice(2)}`);
    }
  });

  it("ship only the build, the migrations, the README and the license", async () => {
    for (const name of published) {
      const files = await tarList(tarballs[name]);
      const extra = files.filter(
        (file) =>
          !/^package\/(dist\/|drizzle\/\d{4}_\w+\.sql$|drizzle\/meta\/_journal\.json$|package\.json$|README\.md$|LICENSE$)/.test(
            file,
          ),
      );
      expect(extra, name).toEqual([]);
      expect(files, name).toContain("package/README.md");
      expect(files, name).toContain("package/LICENSE");
      expect(files.filter((file) => file.endsWith(".map")).length, `${name} has source maps`).toBeGreaterThan(0);
    }
    const server = await tarList(tarballs.server);
    expect(server).toContain("package/dist/web/index.html");
    expect(server).toContain("package/drizzle/meta/_journal.json");
  });

  it("pass publint and arethetypeswrong", async () => {
    const bin = (tool: string) => join(repo, "node_modules/.bin", tool);
    await Promise.all(
      published.flatMap((name) => [
        run(bin("publint"), ["run", "--strict", tarballs[name]], { cwd: work }),
        // ESM only, by design: attw's TypeScript (5.6) predates require(esm); CommonJS use is checked below.
        run(bin("attw"), ["--ignore-rules", "cjs-resolves-to-esm", "--format", "ascii", tarballs[name]], { cwd: work }),
      ]),
    );
  });
});

describe("packages: the SDK installed alone", () => {
  it("does nothing when imported: no handle, no timer, nothing written to HOME", async () => {
    const emptyHome = join(work, "empty-home");
    await mkdir(emptyHome);
    const script = `
      const before = process.getActiveResourcesInfo();
      const sdk = await import("@pedigree/sdk");
      await new Promise((resolve) => setImmediate(resolve));
      const { readdirSync } = await import("node:fs");
      console.log(JSON.stringify({ exports: Object.keys(sdk), before, after: process.getActiveResourcesInfo(), home: readdirSync(process.env.HOME) }));
    `;
    const { stdout } = await run("node", ["--input-type=module", "-e", script], {
      cwd: sdkOnly,
      env: userEnv({ HOME: emptyHome }),
    });
    const report = JSON.parse(stdout);
    expect(report.exports).toEqual(expect.arrayContaining(["Pedigree", "Artifact", "PedigreeError", "syncSpool"]));
    // A piped stdio stream becomes a handle once anything touches it (ky's feature tests wake undici, which may
    // warn); the script's own console.log needs it anyway. Anything else — a timer, socket or file — would be ours.
    const opened = (report.after as string[]).filter((resource) => !report.before.includes(resource));
    expect(opened.filter((resource) => resource !== "PipeWrap")).toEqual([]);
    expect(report.home).toEqual([]);
  });

  it("loads the spool, the file transfers and the cache only when a run or a download needs them", () => {
    const dist = join(sdkOnly, "node_modules/@pedigree/sdk/dist");
    const loadedOnImport = staticImports(join(dist, "index.js")).map((file) => file.slice(dist.length + 1));
    expect(loadedOnImport).toContain("pedigree.js");
    expect(
      loadedOnImport.filter((file) => file.startsWith("spool/") || file.startsWith("cache/") || file === "transfer.js"),
    ).toEqual([]);
    const lazy = loadedOnImport.flatMap((file) => dynamicImports(join(dist, file)));
    expect(lazy).toEqual(
      expect.arrayContaining([
        "./spool/spool-log.js",
        "./spool/run-writer.js",
        "./spool/sync.js",
        "./transfer.js",
        "./cache/blob-cache.js",
        "./cache/offline-use.js",
      ]),
    );
  });

  it("can be require()d from CommonJS on Node ≥ 20.19", async () => {
    await writeFile(
      join(sdkOnly, "require.cjs"),
      `const { Pedigree, PedigreeError } = require("@pedigree/sdk");
       const pd = new Pedigree({ baseUrl: "http://127.0.0.1:9", apiKey: "none", project: "zoo" });
       console.log(JSON.stringify({ project: pd.project, error: typeof PedigreeError }));`,
    );
    const { stdout, stderr } = await run("node", ["require.cjs"], { cwd: sdkOnly, env: userEnv({ HOME: home }) });
    expect(JSON.parse(stdout)).toEqual({ project: "zoo", error: "function" });
    expect(stderr).toBe("");
  });
});

describe("packages: a user's project with every package installed", () => {
  it("has no dev tool at run time", () => {
    expect(existsSync(join(app, "node_modules/tsx"))).toBe(false);
    expect(readFileSync(join(app, "node_modules/@pedigree/cli/dist/main.js"), "utf8")).toMatch(
      /^#!\/usr\/bin\/env node\n/,
    );
  });

  it("serves the web app at / from `npx pedigree server`, with its migrations applied", async () => {
    expect(server.output()).toContain(`admin API key created and saved to ${join(home, ".pedigree/credentials")}`);
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const script = /<script[^>]+src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${server.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
    expect((await asset.text()).length).toBeGreaterThan(10_000);
    expect(await (await fetch(`${server.url}/api/v1/health`)).json()).toMatchObject({ status: "ok" });
  });

  describe("the zoo scenario through the installed SDK", () => {
    const source = readFileSync(join(import.meta.dirname, "consumer/zoo.ts"), "utf8");
    let zoo: {
      splitRuns: string[];
      dataset: { id: string; ref: string; producerCount: number };
      training: string;
      evaluation: string;
      model: { id: string; ref: string; aliases: string[] };
      registry: { version: string; aliases: string[]; source: string }[];
      lineage: {
        base: string;
        nodes: { id: string; depth: number }[];
        edges: { source: string; target: string; kind: string }[];
      };
    };

    beforeAll(async () => {
      // The same script, its types erased: plain JavaScript that plain node runs with no loader.
      const javascript = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      }).outputText;
      await writeFile(join(app, "zoo.mjs"), javascript);
      const { stdout } = await run("node", ["zoo.mjs"], {
        cwd: app,
        env: userEnv({ HOME: home, PEDIGREE_BASE_URL: server.url }),
      });
      zoo = JSON.parse(stdout);
    }, 120_000);

    it("records one dataset version with three producers, the model and its registry link", () => {
      expect(zoo.dataset).toMatchObject({ ref: "split_zoo_dataset:v0", producerCount: 3 });
      expect(zoo.model).toMatchObject({ ref: "zoo-model:v0", aliases: expect.arrayContaining(["best", "latest"]) });
      expect(zoo.registry).toEqual([
        { version: "v0", aliases: expect.arrayContaining(["latest", "staging", "production"]), source: zoo.model.id },
      ]);
    });

    it("reads the model's lineage: split runs → dataset → training → model → evaluation", () => {
      const nodes = zoo.lineage.nodes.map((node) => `${node.id}@${node.depth}`).sort();
      const edges = zoo.lineage.edges.map((edge) => `${edge.source}>${edge.target}:${edge.kind}`).sort();
      expect(zoo.lineage.base).toBe(zoo.model.id);
      expect(nodes).toEqual(
        [
          `${zoo.model.id}@0`,
          `${zoo.training}@-1`,
          `${zoo.dataset.id}@-2`,
          ...zoo.splitRuns.map((id) => `${id}@-3`),
          `${zoo.evaluation}@1`,
        ].sort(),
      );
      expect(edges).toEqual(
        [
          `${zoo.training}>${zoo.model.id}:output`,
          `${zoo.dataset.id}>${zoo.training}:input`,
          ...zoo.splitRuns.map((id) => `${id}>${zoo.dataset.id}:output`),
          `${zoo.model.id}>${zoo.evaluation}:input`,
        ].sort(),
      );
    });

    it("type-checks the SDK and server as used against the installed types: strict, nodenext, bundler, CommonJS", async () => {
      await writeFile(join(app, "zoo.ts"), source);
      await writeFile(
        join(app, "embed-server.ts"),
        readFileSync(join(import.meta.dirname, "consumer/embed-server.ts")),
      );
      await writeFile(
        join(app, "require.cts"),
        `import sdk = require("@pedigree/sdk");\nexport const pd: sdk.Pedigree = new sdk.Pedigree({ project: "zoo" });\n`,
      );
      // The SDK's and protocol's .d.ts (and zod's, ky's, node's) are checked in full under nodenext. The server's
      // are checked where used: drizzle-orm's own .d.ts fail skipLibCheck: false (they import optional peers
      // such as mysql2). attw checks node16 resolution of every package.
      const configs = {
        nodenext: {
          module: "nodenext",
          moduleResolution: "nodenext",
          skipLibCheck: false,
          files: ["zoo.ts", "require.cts"],
        },
        bundler: {
          module: "esnext",
          moduleResolution: "bundler",
          skipLibCheck: true,
          files: ["zoo.ts", "embed-server.ts"],
        },
      };
      const tsc = join(repo, "node_modules/typescript/bin/tsc");
      await Promise.all(
        Object.entries(configs).map(async ([name, { files, ...options }]) => {
          const compilerOptions = { ...options, target: "es2022", strict: true, noEmit: true, types: ["node"] };
          await writeFile(join(app, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions, files }));
          await run("node", [tsc, "-p", `tsconfig.${name}.json`], { cwd: app }).catch((error) => {
            throw new Error(`tsc (${name}) failed:\n${error.stdout}${error.stderr}`);
          });
        }),
      );
    });

    it("works with every command of the installed `pedigree` bin", async () => {
      const bin = join(app, "node_modules/.bin/pedigree");
      const env = userEnv({ HOME: home, PEDIGREE_BASE_URL: server.url });
      const pedigree = async (...args: string[]) => (await run(bin, args, { cwd: app, env })).stdout;
      const downloaded = join(work, "downloaded");
      const outputs = await Promise.all([
        pedigree("whoami"),
        pedigree("projects"),
        pedigree("runs", "--project", "zoo"),
        pedigree("run", zoo.training, "--project", "zoo"),
        pedigree("artifact", zoo.dataset.ref, "--project", "zoo", "--json"),
        pedigree("download", zoo.model.ref, downloaded, "--project", "zoo"),
        pedigree("lineage", zoo.model.ref, "--project", "zoo", "--upstream", "1", "--downstream", "0"),
        pedigree("history", "model/zoo-classifier"),
        pedigree("sync", "--dry-run"),
      ]);
      const [whoami, projects, runs, training, dataset, , lineage, history, sync] = outputs;
      expect(whoami).toContain("admin");
      expect(projects).toContain("zoo");
      expect(runs).toContain(zoo.evaluation);
      expect(training).toContain("training");
      expect(JSON.parse(dataset as string)).toMatchObject({ artifact: "split_zoo_dataset", producerCount: 3 });
      expect(existsSync(join(downloaded, "model.json"))).toBe(true);
      expect(lineage).toContain(`--output--> ${zoo.model.ref} [model] *`);
      expect(history).toContain("alias_added");
      expect(sync).toContain("nothing queued");
    });
  });
});

/** The files `entry` loads on import: its static imports, transitively (the build writes one per line). */
function staticImports(entry: string): string[] {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const code = readFileSync(file, "utf8");
    for (const match of code.matchAll(/^(?:import|export)\s[^;]*?\bfrom\s*"(\.[^"]+)"|^import\s*"(\.[^"]+)"/gm)) {
      queue.push(join(dirname(file), (match[1] ?? match[2]) as string));
    }
  }
  return [...seen].sort();
}

/** The relative modules `file` loads with `import()`, as written. */
function dynamicImports(file: string): string[] {
  return [...readFileSync(file, "utf8").matchAll(/\bimport\("(\.[^"]+)"\)/g)].map((match) => match[1] as string);
}

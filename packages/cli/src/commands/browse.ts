import type { RunState } from "@pedigree/sdk";
import { type Command, parseClientArgs, print, table } from "./command";

export const whoamiCommand: Command = {
  summary: "the user behind the API key in use",
  async run(args) {
    const parsed = parseClientArgs(args, "Usage: pedigree whoami [--json]", {});
    if (!parsed) return 0;
    const me = await parsed.client.whoami();
    print(
      parsed.json,
      me,
      () => `${me.user.name}${me.user.isAdmin ? " (admin)" : ""} on ${parsed.client.client.settings.baseUrl}`,
    );
    return 0;
  },
};

export const projectsCommand: Command = {
  summary: "the projects you can see",
  async run(args) {
    const parsed = parseClientArgs(args, "Usage: pedigree projects [--json]", {});
    if (!parsed) return 0;
    const projects = await parsed.client.projects();
    print(parsed.json, projects, () =>
      table([
        ["project", "runs", "artifacts"],
        ...projects.map((p) => [p.name, String(p.runCount), String(p.artifactCount)]),
      ]),
    );
    return 0;
  },
};

export const registriesCommand: Command = {
  summary: "the registries you can read, with who else can",
  async run(args) {
    const parsed = parseClientArgs(args, "Usage: pedigree registries [--json]", {});
    if (!parsed) return 0;
    const registries = await parsed.client.registries();
    print(parsed.json, registries, () =>
      table([
        ["registry", "visibility", "description"],
        ...registries.map((r) => [r.name, r.visibility, r.description]),
      ]),
    );
    return 0;
  },
};

export const runsCommand: Command = {
  summary: "a project's runs, newest first, a page at a time",
  async run(args) {
    const usage =
      "Usage: pedigree runs --project <p> [--job-type <t>] [--state <s>] [--tag <t>] [--search <name>] [--limit <n>] [--offset <n>] [--json]";
    const parsed = parseClientArgs(args, usage, {
      "job-type": { type: "string" },
      state: { type: "string" },
      tag: { type: "string" },
      search: { type: "string" },
      limit: { type: "string" },
      offset: { type: "string" },
    });
    if (!parsed) return 0;
    const { values } = parsed;
    const number = (name: string) => (values[name] === undefined ? undefined : Number(values[name]));
    const page = await parsed.client.runs({
      jobType: values["job-type"] as string | undefined,
      state: values.state as RunState | undefined,
      tag: values.tag as string | undefined,
      q: values.search as string | undefined,
      limit: number("limit") ?? 100,
      offset: number("offset"),
    });
    const first = (number("offset") ?? 0) + 1;
    print(parsed.json, page.items, () =>
      [
        table([
          ["id", "name", "job type", "state", "started"],
          ...page.items.map((r) => [r.id, r.name, r.jobType, r.state, r.startedAt]),
        ]),
        page.items.length === 0
          ? `no runs of ${page.total}`
          : `runs ${first}–${first + page.items.length - 1} of ${page.total}`,
      ].join("\n"),
    );
    return 0;
  },
};

export const runCommand: Command = {
  summary: "one run: config, inputs and outputs",
  async run(args) {
    const parsed = parseClientArgs(args, "Usage: pedigree run <run-id> --project <p> [--json]", {});
    if (!parsed) return 0;
    const [runId] = parsed.positionals;
    if (!runId) throw new Error("name a run id");
    const run = await parsed.client.run(runId);
    print(parsed.json, run, () =>
      [
        `${run.name} (${run.id}) ${run.jobType}, ${run.state}, started ${run.startedAt}`,
        `config  ${JSON.stringify(run.config)}`,
        ...run.inputs.map(
          (input) => `input   ${input.version.artifact}:${input.version.version} (asked for ${input.requestedRef})`,
        ),
        ...run.outputs.map((output) => `output  ${output.artifact}:${output.version}`),
      ].join("\n"),
    );
    return 0;
  },
};

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
  summary: "a project's runs, newest first",
  async run(args) {
    const parsed = parseClientArgs(args, "Usage: pedigree runs --project <p> [--job-type <t>] [--json]", {
      "job-type": { type: "string" },
    });
    if (!parsed) return 0;
    const runs = await parsed.client.runs({ jobType: parsed.values["job-type"] as string | undefined });
    print(parsed.json, runs, () =>
      table([
        ["id", "name", "job type", "state", "started"],
        ...runs.map((r) => [r.id, r.name, r.jobType, r.state, r.startedAt]),
      ]),
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

import { type Command, parseClientArgs, print } from "./command";

export const artifactCommand: Command = {
  summary: "one version by ref: aliases, files, producers, consumers",
  async run(args) {
    const parsed = parseClientArgs(args, "Usage: pedigree artifact <ref> --project <p> [--json]", {});
    if (!parsed) return 0;
    const [ref] = parsed.positionals;
    if (!ref) throw new Error("name a ref: name, name:alias, name:vN or registry/collection:alias");
    const details = await (await parsed.client.artifact(ref)).fetchDetails();
    print(parsed.json, details, () =>
      [
        `${details.artifact}:${details.version} (${details.type}) ${details.id}`,
        `aliases    ${details.aliases.join(", ") || "-"}`,
        `digest     ${details.digest}`,
        `size       ${details.size} bytes in ${details.fileCount} file(s)`,
        ...details.manifest.map(
          (entry) => `file       ${entry.path} ${"sha256" in entry ? entry.sha256.slice(0, 12) : entry.uri}`,
        ),
        ...details.producers.map((run) => `logged by  ${run.name} (${run.id}, ${run.jobType})`),
        ...details.consumers.map((run) => `used by    ${run.name} (${run.id}, ${run.jobType}) as ${run.requestedRef}`),
        ...details.memberships.map(
          (m) => `linked in  ${m.registry}/${m.collection}:${m.version} ${m.aliases.join(", ")}`,
        ),
      ].join("\n"),
    );
    return 0;
  },
};

export const downloadCommand: Command = {
  summary: "download a version's files, verified by sha256",
  async run(args) {
    const parsed = parseClientArgs(
      args,
      "Usage: pedigree download <ref> [dir] --project <p> [--copy]\n\nFiles come through the cache ($PEDIGREE_DIR/cache) as read-only hard links; --copy writes editable copies.",
      { copy: { type: "boolean" } },
    );
    if (!parsed) return 0;
    const [ref, dir] = parsed.positionals;
    if (!ref) throw new Error("name a ref");
    const version = await parsed.client.artifact(ref);
    const target = await version.download(dir, { copy: Boolean(parsed.values.copy) });
    print(parsed.json, { ref: version.ref, dir: target }, () => `${version.ref} -> ${target}`);
    return 0;
  },
};

import type { LineageGraph } from "@pedigree/sdk";
import { type Command, parseClientArgs, print } from "./command";

const usage = `Usage: pedigree lineage <ref|run-id|version-id> --project <p> [options] [--json]

  --upstream <n>          ancestor hops (2)        --downstream <n>      descendant hops (2)
  --artifact-types <a,b>  show only these types    --job-types <a,b>     show only these job types
  --extended              siblings too             --include-generated   generated versions too
  --expand-clusters       no clusters              --as-of <iso time>    the graph as it stood then`;

export const lineageCommand: Command = {
  summary: "a node's ancestors and descendants, as edges",
  async run(args) {
    const parsed = parseClientArgs(args, usage, {
      upstream: { type: "string" },
      downstream: { type: "string" },
      "artifact-types": { type: "string" },
      "job-types": { type: "string" },
      extended: { type: "boolean" },
      "include-generated": { type: "boolean" },
      "expand-clusters": { type: "boolean" },
      "as-of": { type: "string" },
    });
    if (!parsed) return 0;
    const [node] = parsed.positionals;
    if (!node) throw new Error("name a ref, a run id or a version id");
    const { values } = parsed;
    const list = (value: unknown) => (typeof value === "string" ? value.split(",") : undefined);
    const graph = await parsed.client.lineage(node, {
      ...(values.upstream ? { upstream: Number(values.upstream) } : {}),
      ...(values.downstream ? { downstream: Number(values.downstream) } : {}),
      ...(list(values["artifact-types"]) ? { artifactTypes: list(values["artifact-types"]) } : {}),
      ...(list(values["job-types"]) ? { jobTypes: list(values["job-types"]) } : {}),
      extended: Boolean(values.extended),
      includeGenerated: Boolean(values["include-generated"]),
      expandClusters: Boolean(values["expand-clusters"]),
      ...(typeof values["as-of"] === "string" ? { asOf: values["as-of"] } : {}),
    });
    print(parsed.json, graph, () => describeGraph(graph));
    return 0;
  },
};

export function describeGraph(graph: LineageGraph): string {
  const label = new Map(
    graph.nodes.map((node) => {
      const text =
        node.kind === "version"
          ? `${node.artifact}:${node.version} [${node.type}]`
          : node.kind === "run"
            ? `${node.name} (${node.id}) [${node.jobType}]`
            : `${node.memberCount} ${node.memberKind}s [${node.type}] (${node.id})`;
      return [node.id, `${text}${node.id === graph.base ? " *" : ""}`];
    }),
  );
  const lines = graph.edges.map((edge) => `${label.get(edge.source)} --${edge.kind}--> ${label.get(edge.target)}`);
  if (lines.length === 0) lines.push(`${label.get(graph.base)} (no edges)`);
  if (graph.truncated) lines.push("(truncated at maxNodes)");
  return lines.join("\n");
}

/**
 * `pnpm example:zoo`: runs the zoo lineage scenario against the server in PEDIGREE_BASE_URL (default
 * http://127.0.0.1:4000, started by `pnpm start`) with the key from PEDIGREE_API_KEY or ~/.pedigree/credentials.
 */
import { Pedigree } from "@pedigree/sdk";
import { runZooScenario } from "./scenario";

const project = process.env.PEDIGREE_PROJECT ?? "zoo";
const pd = new Pedigree({ project });
const lineage = await runZooScenario(pd, project);

console.log(`project ${project}`);
console.log(
  `  split runs ${lineage.splitRuns.join(", ")} each logged ${lineage.dataset.ref} (one version, ${lineage.splitRuns.length} producers)`,
);
console.log(`  ${lineage.dataset.ref} --input--> training run ${lineage.trainingRun} --output--> ${lineage.model.ref}`);
console.log(
  `  ${lineage.model.ref} --input--> evaluation run ${lineage.evaluationRun} (accuracy ${lineage.accuracy.toFixed(2)})`,
);
const dataset = await pd.artifact(lineage.dataset.id);
console.log(`  ${dataset.ref} logged by ${(await dataset.loggedBy()).map((run) => run.name).join(", ")}`);
console.log(
  `  ${dataset.ref} used by ${(await dataset.usedBy()).map((run) => `${run.name} (${run.jobType})`).join(", ")}`,
);

const graph = await pd.lineage(lineage.model.id, { upstream: 3, downstream: 2 });
const label = new Map(
  graph.nodes.map((node) => [
    node.id,
    node.kind === "version"
      ? `${node.artifact}:${node.version}`
      : node.kind === "run"
        ? `${node.name} (${node.jobType})`
        : `${node.memberCount} ${node.type}`,
  ]),
);
console.log(`lineage of ${lineage.model.ref} (3 hops up, 2 down):`);
for (const edge of graph.edges) console.log(`  ${label.get(edge.source)} --${edge.kind}--> ${label.get(edge.target)}`);

const classifier = pd.registry("model").collection("zoo-classifier");
console.log(`action history of ${lineage.collection}, newest first:`);
for await (const event of classifier.actionHistory()) {
  console.log(
    `  ${event.at}  ${event.actor.padEnd(8)} ${event.action.padEnd(18)} ${event.version ?? ""} ${event.alias ?? ""}`,
  );
}
const verification = await classifier.verifyHistory();
console.log(
  `  chain ${verification.ok ? "verified" : `broken at event ${verification.firstBroken?.seq}: ${verification.firstBroken?.reason}`} (${verification.eventCount} events)`,
);

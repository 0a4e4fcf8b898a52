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

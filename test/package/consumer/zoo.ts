/**
 * A user's training script, as it would sit in their own repository: it knows Pedigree only as the installed
 * `@pedigree/sdk` package. The `package` test type-checks this file against the installed types, erases its
 * types and runs it with plain `node`. The server URL comes from PEDIGREE_BASE_URL, the API key from the
 * credentials file the server wrote under ~/.pedigree on first start. Prints what it logged, as JSON.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Artifact, type CollectionVersion, type LineageGraph, Pedigree, type VersionNode } from "@pedigree/sdk";

const work = await mkdtemp(join(tmpdir(), "zoo-"));
await writeFile(join(work, "train.csv"), "animal,legs,class\naardvark,4,mammal\nchicken,2,bird\n");
await writeFile(join(work, "test.csv"), "animal,legs,class\nbear,4,mammal\n");

const pd = new Pedigree({ project: "zoo" });
const splitRuns: string[] = [];
for (let index = 0; index < 3; index++) {
  const split = await pd.init({ jobType: "split_zoo_data", config: { testEvery: 4 } });
  const dataset = new Artifact({ name: "split_zoo_dataset", type: "dataset" });
  await dataset.addFile(join(work, "train.csv"));
  await dataset.addFile(join(work, "test.csv"));
  await split.logArtifact(dataset);
  await split.finish();
  splitRuns.push(split.id);
}

const training = await pd.init({ jobType: "training", config: { lr: 0.01 } });
const dataset = await training.useArtifact("split_zoo_dataset:v0");
const trainCsv = await readFile(join(await dataset.download(join(work, "data")), "train.csv"), "utf8");
await writeFile(join(work, "model.json"), JSON.stringify({ rows: trainCsv.trim().split("\n").length - 1 }));
const artifact = new Artifact({ name: "zoo-model", type: "model" });
await artifact.addFile(join(work, "model.json"));
const model = await training.logArtifact(artifact, { aliases: ["best"] });
await pd.createRegistry({ name: "model", acceptedTypes: ["model"], protectedAliases: ["production"] });
await training.linkArtifact(model, "model/zoo-classifier", { aliases: ["staging"] });
await training.finish();

const evaluation = await pd.init({ jobType: "evaluation" });
await evaluation.useArtifact("model/zoo-classifier:staging");
await evaluation.finish();
const classifier = pd.registry("model").collection("zoo-classifier");
await classifier.addAlias(model, "production");
const linked: CollectionVersion[] = await classifier.versions();

const graph: LineageGraph = await pd.lineage(model.ref, { upstream: 3, downstream: 1 });
const base = graph.nodes.find((node): node is VersionNode => node.kind === "version" && node.id === graph.base);
const producers = await (await pd.artifact("split_zoo_dataset:v0")).loggedBy();
console.log(
  JSON.stringify({
    splitRuns,
    dataset: { id: dataset.id, ref: dataset.ref, producerCount: producers.length },
    training: training.id,
    evaluation: evaluation.id,
    model: { id: model.id, ref: model.ref, aliases: base?.aliases ?? [] },
    registry: linked.map((link) => ({ version: link.version, aliases: link.aliases, source: link.source.id })),
    lineage: graph,
  }),
);

import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Artifact, type Pedigree } from "@pedigree/sdk";
import { accuracy, splitZoo, trainNearestCentroid } from "./data";

export interface ZooLineage {
  splitRuns: string[];
  dataset: { id: string; ref: string };
  trainingRun: string;
  model: { id: string; ref: string };
  evaluationRun: string;
  accuracy: number;
  /** The model's collection in the `model` registry, after promotion from `staging` to `production`. */
  collection: string;
}

/**
 * The lineage scenario of the W&B docs: three runs split the zoo data the same way (one `v0`, three
 * producers), a training run uses it, logs `zoo-<runid>` and links it into `model/zoo-classifier` as
 * `staging`; an evaluation run uses the model through the registry, and the model is promoted to `production`.
 */
export async function runZooScenario(pd: Pedigree, project: string, splitRunCount = 3): Promise<ZooLineage> {
  const workDir = await mkdtemp(join(tmpdir(), "pedigree-zoo-"));
  const splitRuns: string[] = [];
  let dataset: { id: string; ref: string } | undefined;
  for (let index = 0; index < splitRunCount; index++) {
    const run = await pd.init({ project, jobType: "split_zoo_data", config: { testEvery: 4 } });
    const { train, test } = splitZoo();
    await writeFile(join(workDir, "train.csv"), train);
    await writeFile(join(workDir, "test.csv"), test);
    const split = new Artifact({ name: "split_zoo_dataset", type: "dataset", metadata: { source: "UCI zoo" } });
    await split.addFile(join(workDir, "train.csv"));
    await split.addFile(join(workDir, "test.csv"));
    const logged = await run.logArtifact(split);
    dataset = { id: logged.id, ref: logged.ref };
    splitRuns.push(run.id);
    await run.finish();
  }
  if (!dataset) throw new Error("no split run logged the dataset");

  const training = await pd.init({ project, jobType: "training", config: { model: "nearest-centroid" } });
  const used = await training.useArtifact("split_zoo_dataset:v0", { type: "dataset" });
  const dataDir = await used.download(join(workDir, "dataset"));
  const model = trainNearestCentroid(await readFile(join(dataDir, "train.csv"), "utf8"));
  await writeFile(join(workDir, "model.json"), JSON.stringify(model));
  const modelArtifact = new Artifact({
    name: `zoo-${training.id}`,
    type: "model",
    metadata: { classes: Object.keys(model).length },
  });
  await modelArtifact.addFile(join(workDir, "model.json"));
  const loggedModel = await training.logArtifact(modelArtifact, { aliases: ["best"] });
  await pd.createRegistry({ name: "model", acceptedTypes: ["model"], protectedAliases: ["production"] });
  await training.linkArtifact(loggedModel, "model/zoo-classifier", { aliases: ["staging"] });
  await training.finish();

  const evaluation = await pd.init({ project, jobType: "evaluation" });
  const modelVersion = await evaluation.useArtifact("model/zoo-classifier:staging", { type: "model" });
  const evalData = await evaluation.useArtifact("split_zoo_dataset:latest");
  const modelDir = await modelVersion.download(join(workDir, "model"));
  const evalDir = await evalData.download(join(workDir, "eval-data"));
  const score = accuracy(
    JSON.parse(await readFile(join(modelDir, "model.json"), "utf8")),
    await readFile(join(evalDir, "test.csv"), "utf8"),
  );
  await evaluation.finish();

  const classifier = pd.registry("model").collection("zoo-classifier");
  await classifier.addAlias(loggedModel, "production");
  await classifier.removeAlias("staging");

  return {
    splitRuns,
    dataset,
    trainingRun: training.id,
    model: { id: loggedModel.id, ref: loggedModel.ref },
    evaluationRun: evaluation.id,
    accuracy: score,
    collection: "model/zoo-classifier",
  };
}

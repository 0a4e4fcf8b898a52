/** A small slice of the UCI zoo data set: animal, four features, class. Enough to train and evaluate on. */
export const zooRows: [string, number, number, number, number, string][] = [
  ["aardvark", 1, 0, 4, 0, "mammal"],
  ["bass", 0, 1, 0, 1, "fish"],
  ["bear", 1, 0, 4, 0, "mammal"],
  ["carp", 0, 1, 0, 1, "fish"],
  ["chicken", 0, 0, 2, 0, "bird"],
  ["crow", 0, 0, 2, 0, "bird"],
  ["dolphin", 1, 1, 0, 1, "mammal"],
  ["duck", 0, 1, 2, 0, "bird"],
  ["frog", 0, 1, 4, 0, "amphibian"],
  ["haddock", 0, 1, 0, 1, "fish"],
  ["hawk", 0, 0, 2, 0, "bird"],
  ["newt", 0, 1, 4, 1, "amphibian"],
  ["pike", 0, 1, 0, 1, "fish"],
  ["seal", 1, 1, 0, 1, "mammal"],
  ["toad", 0, 1, 4, 0, "amphibian"],
  ["wolf", 1, 0, 4, 0, "mammal"],
];

export const header = "animal,hair,aquatic,legs,fins,class";

/** Deterministic split: every fourth animal goes to the test set, so every run makes identical content. */
export function splitZoo(): { train: string; test: string } {
  const toCsv = (rows: typeof zooRows) => `${[header, ...rows.map((row) => row.join(","))].join("\n")}\n`;
  return {
    train: toCsv(zooRows.filter((_, index) => index % 4 !== 3)),
    test: toCsv(zooRows.filter((_, index) => index % 4 === 3)),
  };
}

type Centroids = Record<string, number[]>;

/** A nearest-centroid classifier: the smallest model that really learns from the file it was given. */
export function trainNearestCentroid(csv: string): Centroids {
  const sums: Record<string, { total: number[]; count: number }> = {};
  for (const [features, label] of parse(csv)) {
    sums[label] ??= { total: features.map(() => 0), count: 0 };
    const entry = sums[label];
    features.forEach((value, index) => {
      entry.total[index] = (entry.total[index] ?? 0) + value;
    });
    entry.count++;
  }
  return Object.fromEntries(
    Object.entries(sums).map(([label, { total, count }]) => [label, total.map((value) => value / count)]),
  );
}

export function accuracy(model: Centroids, csv: string): number {
  const rows = parse(csv);
  const correct = rows.filter(([features, label]) => predict(model, features) === label).length;
  return rows.length === 0 ? 0 : correct / rows.length;
}

function predict(model: Centroids, features: number[]): string {
  let best = "";
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const [label, centroid] of Object.entries(model)) {
    const distance = centroid.reduce((sum, value, index) => sum + (value - (features[index] ?? 0)) ** 2, 0);
    if (distance < bestDistance) [best, bestDistance] = [label, distance];
  }
  return best;
}

function parse(csv: string): [number[], string][] {
  return csv
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => {
      const cells = line.split(",");
      return [cells.slice(1, -1).map(Number), cells[cells.length - 1] ?? ""];
    });
}

import { type ParseArgsConfig, parseArgs } from "node:util";
import { Pedigree } from "@pedigree/sdk";

export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

const commonOptions = {
  project: { type: "string", short: "p" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} satisfies Options;

/** Parses a client command's arguments; `--help` prints its usage and answers null. */
export function parseClientArgs(args: string[], usage: string, options: Options) {
  const parsed = parseArgs({ args, options: { ...commonOptions, ...options }, allowPositionals: true });
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return null;
  }
  const project = values.project as string | undefined;
  return {
    values,
    positionals: parsed.positionals,
    client: new Pedigree(project ? { project } : {}),
    json: Boolean(values.json),
  };
}

export function print(json: boolean, value: unknown, text: () => string) {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

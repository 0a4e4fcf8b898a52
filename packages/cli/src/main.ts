#!/usr/bin/env -S node --import tsx
import { PedigreeError } from "@pedigree/sdk";
import { commands } from "./commands";

const usage = `Usage: pedigree <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`)
  .join("\n")}

Client commands read PEDIGREE_BASE_URL, PEDIGREE_API_KEY (or ~/.pedigree/credentials) and PEDIGREE_PROJECT;
--project and --json work on each. 'pedigree <command> --help' tells more.
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name ? commands[name] : undefined;
  if (!command) {
    process.stdout.write(usage);
    return name === undefined || name === "--help" || name === "help" ? 0 : 2;
  }
  return command.run(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const detail = error instanceof PedigreeError && error.field ? ` (${error.field})` : "";
    console.error(`pedigree: ${error instanceof Error ? error.message : String(error)}${detail}`);
    process.exitCode = 1;
  },
);

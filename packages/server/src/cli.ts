import { runServerCommand } from "./server-command";

/** `tsx src/cli.ts [options]`: the server alone (what `pnpm start` runs); `pedigree server` is the same. */
const args = process.argv.slice(2);
runServerCommand(args[0] === "server" ? args.slice(1) : args).catch((error: unknown) => {
  console.error(`pedigree: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

import { artifactCommand, downloadCommand } from "./artifacts";
import { projectsCommand, registriesCommand, runCommand, runsCommand, whoamiCommand } from "./browse";
import { cacheCommand } from "./cache";
import type { Command } from "./command";
import { gcCommand } from "./gc";
import { historyCommand } from "./history";
import { lineageCommand } from "./lineage";
import { serverCommand } from "./server";
import { syncCommand } from "./sync";

export const commands: Record<string, Command> = {
  server: serverCommand,
  sync: syncCommand,
  cache: cacheCommand,
  whoami: whoamiCommand,
  projects: projectsCommand,
  registries: registriesCommand,
  runs: runsCommand,
  run: runCommand,
  artifact: artifactCommand,
  download: downloadCommand,
  lineage: lineageCommand,
  history: historyCommand,
  gc: gcCommand,
};

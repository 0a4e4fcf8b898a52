import { runServerCommand } from "@pedigree/server";
import type { Command } from "./command";

export const serverCommand: Command = {
  summary: "run the tracking server (embedded database unless --database-url)",
  async run(args) {
    await runServerCommand(args);
    return 0;
  },
};

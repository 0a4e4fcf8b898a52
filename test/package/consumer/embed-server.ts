/**
 * The server embedded in a user's own process, as packages/server/README.md shows it. The `package` test
 * type-checks it against the installed types (the CLI's `server` command runs the same startServer).
 */
import { defaultConfig, type RunningServer, startServer } from "@pedigree/server";

const server: RunningServer = await startServer({ ...defaultConfig(), port: 0 });
console.log(server.url, server.createdAdminKey);
await server.close();

import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CredentialsFile } from "@pedigree/protocol";

export const credentialsPath = (pedigreeDir: string) => join(pedigreeDir, "credentials");

/** Records `apiKey` for `serverUrl`, keeping the other servers' entries; the file stays mode 0600. */
export async function saveCredentials(pedigreeDir: string, serverUrl: string, apiKey: string, user: string) {
  const path = credentialsPath(pedigreeDir);
  const current: CredentialsFile = await readFile(path, "utf8").then(
    (text) => CredentialsFile.safeParse(JSON.parse(text)).data ?? { servers: {} },
    () => ({ servers: {} }),
  );
  current.servers[serverUrl] = { apiKey, user };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(current, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
  return path;
}

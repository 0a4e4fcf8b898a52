/**
 * Where the files of a version are downloaded: in its project, or through the registry collection it was read
 * through (which lets a registry reader without a role in the project read them). Route names of the table.
 */
export type VersionFiles =
  | { route: "downloadFile"; params: { project: string; versionId: string } }
  | { route: "downloadCollectionVersionFile"; params: { registry: string; collection: string; version: string } };

import { join } from "node:path";
import type { ServerConfig } from "../config";
import type { BlobStore } from "./blob-store";
import { createLocalBlobStore } from "./local-blob-store";

/**
 * The blob store a server's configuration names (`PEDIGREE_BLOB_STORE`): the local disk unless it is s3://.
 * The S3 store (and the AWS SDK, about 30 MB and 300 ms to load) is imported only when it is configured.
 */
export async function openBlobStore(
  config: Pick<ServerConfig, "dataDir" | "blobStore" | "s3Endpoint" | "directTransferMinBytes" | "s3TrustChecksums">,
): Promise<BlobStore> {
  if (!config.blobStore) return createLocalBlobStore(join(config.dataDir, "blobs"));
  if (!config.blobStore.startsWith("s3://"))
    throw new Error(`PEDIGREE_BLOB_STORE: '${config.blobStore}' is not an s3:// URL (unset: the local disk)`);
  const { createS3BlobStore, createS3Client, parseS3Url } = await importS3BlobStore();
  const { bucket, prefix } = parseS3Url(config.blobStore);
  return createS3BlobStore({
    client: createS3Client({ endpoint: config.s3Endpoint }),
    bucket,
    prefix,
    directMinBytes: config.directTransferMinBytes,
    trustStoreChecksums: config.s3TrustChecksums,
  });
}

/** The S3 store's module, loaded on first use. */
export const importS3BlobStore = () => import("./s3-blob-store");

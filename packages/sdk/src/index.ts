export type {
  ArtifactSummary,
  ClusterMembers,
  ClusterNode,
  Collection,
  CollectionVersion,
  DeleteVersionsResponse,
  GcResult,
  HistoryCheckpoint,
  HistoryEvent,
  HistoryStateDifference,
  HistoryVerification,
  Impact,
  LineageEdge,
  LineageGraph,
  LineageNode,
  LineagePath,
  OpenLineageNodeName,
  RunDetails,
  RunNode,
  RunOpenLineageEvents,
  RunState,
  RunSummary,
  SearchHit,
  SearchKind,
  SearchResults,
  VersionDetails,
  VersionNode,
  VersionRun,
} from "@pedigree/protocol";
export { Artifact, type ArtifactInit } from "./artifact";
export { ArtifactVersion } from "./artifact-version";
export { AuthError, ConflictError, GoneError, NotFoundError, PedigreeError, ValidationError } from "./errors";
export type { ClusterMembersOptions, LineageNodeRef, LineageOptions } from "./lineage";
export { type CacheUsage, cacheInfo, cleanupCache, type EvictionResult } from "./local-cache";
export type {
  ArtifactFilters,
  CollectionFilters,
  IterateOptions,
  Page,
  PageOptions,
  RunFilters,
  VersionFilters,
  VersionRunFilters,
} from "./pages";
export { type InitOptions, Pedigree } from "./pedigree";
export {
  type HistoryFilters,
  type LinkOptions,
  Registry,
  RegistryCollection,
  type RegistryInfo,
  type VersionInput,
} from "./registry";
export { type FinishResult, Run } from "./run";
export { type PedigreeOptions, parseByteSize } from "./settings";
export { type SyncedRun, syncSpool } from "./sync";
export type { ProgressCallback, TransferProgress } from "./transfer";

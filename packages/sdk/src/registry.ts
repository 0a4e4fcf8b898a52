import type {
  Collection,
  CollectionVersion,
  CreateCollectionBody,
  CreateRegistryBody,
  HistoryAction,
  HistoryCheckpoint,
  HistoryEvent,
  HistoryVerification,
  Registry as RegistryInfo,
} from "@pedigree/protocol";
import { ArtifactVersion } from "./artifact-version";
import type { HttpClient } from "./client";
import { ValidationError } from "./errors";
import {
  type CollectionFilters,
  DEFAULT_LIMIT,
  DEFAULT_PAGE_SIZE,
  type IterateOptions,
  itemsByCursor,
  type Page,
  type PageOptions,
} from "./pages";

/** A version as registry calls accept it: a logged `ArtifactVersion`, a version id, or a ref in a project. */
export type VersionInput = ArtifactVersion | string;

export interface LinkOptions {
  aliases?: string[];
  /** The project a string ref lives in (default: the client's). */
  project?: string;
  /** Take an alias from the collection version holding it (default) or fail with a ConflictError. */
  move?: boolean;
}

/** Filters of `actionHistory`: actions, actor (name or id), the collection's `vN`, ISO times from/to inclusive. */
export interface HistoryFilters {
  action?: HistoryAction | HistoryAction[];
  actor?: string;
  version?: string;
  from?: string;
  to?: string;
  /** Events fetched per request (default 100). */
  pageSize?: number;
}

/** Creates a registry (admins only); creating it again with the same settings answers the existing one. */
export async function createRegistry(client: HttpClient, body: CreateRegistryBody): Promise<RegistryInfo> {
  return client.call("createRegistry", { body });
}

/** An organisation-wide registry (`model`, `dataset`): link versions into its collections. */
export class Registry {
  constructor(
    private readonly client: HttpClient,
    readonly name: string,
    private readonly defaultProject: string | undefined,
  ) {}

  /** Its description, accepted types and protected aliases. */
  async info(): Promise<RegistryInfo> {
    return this.client.call("getRegistry", { params: { registry: this.name } });
  }

  /**
   * Links a version into `collection` (created with the version's type on first link) and gives it
   * `aliases`. Linking a linked version again changes no link and answers its existing membership.
   */
  async link(version: VersionInput, collection: string, options: LinkOptions = {}): Promise<CollectionVersion> {
    const { project, ref } = this.versionRef(version, options.project);
    const response = await this.client.call("linkVersion", {
      params: this.collectionParams(collection),
      body: { project, ref, aliases: options.aliases ?? [], move: options.move ?? true },
    });
    return response.membership;
  }

  /** Takes a version out of `collection`; `version` may also be the collection's `vN`. */
  async unlink(version: VersionInput, collection: string, options: { project?: string } = {}): Promise<void> {
    const selector = await this.collection(collection).selectorOf(version, options.project);
    await this.client.call("unlinkVersion", { params: { ...this.collectionParams(collection), version: selector } });
  }

  /** Creates a collection explicitly (linking creates one too); the same settings again answer the existing one. */
  async createCollection(options: CreateCollectionBody): Promise<Collection> {
    return this.client.call("createCollection", { params: { registry: this.name }, body: options });
  }

  collection(name: string): RegistryCollection {
    return new RegistryCollection(this.client, this.name, name, this.defaultProject);
  }

  /** One page of the registry's collections, by name, filtered by type, tag, name prefix and name (`q`). */
  async collections(filters: CollectionFilters & PageOptions = {}): Promise<Page<Collection>> {
    const { limit, offset, ...rest } = filters;
    const page = await this.client.call("listCollections", {
      params: { registry: this.name },
      query: { ...rest, limit: limit ?? DEFAULT_LIMIT, offset: offset ?? 0 },
    });
    return { items: page.collections, total: page.total };
  }

  /** Every collection matching the filters, by name. */
  iterateCollections(filters: CollectionFilters & IterateOptions = {}): AsyncGenerator<Collection> {
    const { pageSize, ...rest } = filters;
    return itemsByCursor(async (cursor) => {
      const page = await this.client.call("listCollections", {
        params: { registry: this.name },
        query: { ...rest, limit: pageSize ?? DEFAULT_PAGE_SIZE, cursor },
      });
      return { items: page.collections, nextCursor: page.nextCursor };
    });
  }

  private collectionParams(collection: string) {
    return { registry: this.name, collection };
  }

  private versionRef(version: VersionInput, project: string | undefined) {
    if (version instanceof ArtifactVersion) return { project: version.project, ref: version.id };
    const chosen = project ?? this.defaultProject;
    if (!chosen) throw missingProject();
    return { project: chosen, ref: version };
  }
}

/** One collection of a registry: its versions, aliases and action history. */
export class RegistryCollection {
  private readonly params: { registry: string; collection: string };

  constructor(
    private readonly client: HttpClient,
    readonly registry: string,
    readonly name: string,
    private readonly defaultProject: string | undefined,
  ) {
    this.params = { registry, collection: name };
  }

  /** `registry/collection:selector`, usable wherever a ref is. */
  ref(selector = "latest"): string {
    return `${this.registry}/${this.name}:${selector}`;
  }

  async info(): Promise<Collection> {
    return this.client.call("getCollection", { params: this.params });
  }

  /**
   * The version linked here that `selector` names (`latest`, the collection's `vN`, an alias, or a linked version
   * id), with its details; its files download through this collection, whatever project the version is in.
   */
  async version(selector = "latest"): Promise<ArtifactVersion> {
    const details = await this.client.call("getCollectionVersion", {
      params: { ...this.params, version: selector },
    });
    return new ArtifactVersion(this.client, details, { registry: this.registry, collection: this.name });
  }

  /** Changes tags and/or description; each real change is recorded in the action history. */
  async update(changes: { tags?: string[]; description?: string }): Promise<Collection> {
    return this.client.call("updateCollection", { params: this.params, body: changes });
  }

  /** The versions linked now, newest first, each with its collection `vN`, aliases and source version. */
  async versions(): Promise<CollectionVersion[]> {
    return (await this.client.call("listCollectionVersions", { params: this.params })).versions;
  }

  /** Gives `alias` to a version (the collection's `vN`, an ArtifactVersion, a version id or a ref). */
  async addAlias(version: VersionInput, alias: string, options: { move?: boolean; project?: string } = {}) {
    const selector = await this.selectorOf(version, options.project);
    return this.client.call("setCollectionAlias", {
      params: { ...this.params, alias },
      body: { version: selector, move: options.move ?? true },
    });
  }

  async removeAlias(alias: string): Promise<void> {
    await this.client.call("removeCollectionAlias", { params: { ...this.params, alias } });
  }

  /** Makes `aliases` exactly the aliases of a version, moving those that other versions hold. */
  async setAliases(version: VersionInput, aliases: string[], options: { move?: boolean; project?: string } = {}) {
    const selector = await this.selectorOf(version, options.project);
    return this.client.call("setVersionAliases", {
      params: { ...this.params, version: selector },
      body: { aliases, move: options.move ?? true },
    });
  }

  /** Every event matching `filters`, newest first, fetching pages as the loop goes. */
  async *actionHistory(filters: HistoryFilters = {}): AsyncGenerator<HistoryEvent> {
    const { action, pageSize, ...rest } = filters;
    let cursor: string | undefined;
    do {
      const page = await this.client.call("listHistory", {
        params: this.params,
        query: { ...rest, limit: pageSize, action, cursor },
      });
      yield* page.events;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  /**
   * Verifies the history on the server: recomputes the hash chain (`firstBroken` names the first event that
   * does not fit), replays the events against the collection's links and aliases (`stateDifferences`), and,
   * with `since`, proves the chain still extends a checkpoint kept from an earlier answer's `head`
   * (`since.inChain`): keep `head` somewhere the server cannot write, and a cut or rewritten history shows.
   */
  async verifyHistory(options: { since?: HistoryCheckpoint } = {}): Promise<HistoryVerification> {
    const { since } = options;
    return this.client.call("verifyHistory", {
      params: this.params,
      query: since ? { sinceSeq: since.seq, sinceHash: since.hash } : {},
    });
  }

  /** @internal The path segment naming a version in this collection: `vN` or a version id. */
  async selectorOf(version: VersionInput, project: string | undefined): Promise<string> {
    if (version instanceof ArtifactVersion) return version.id;
    if (/^v\d+$/.test(version) || /^av_[a-z0-9]{16}$/.test(version)) return version;
    const chosen = project ?? this.defaultProject;
    if (!chosen) throw missingProject();
    const details = await this.client.call("resolveVersion", { params: { project: chosen }, query: { ref: version } });
    return details.id;
  }
}

function missingProject() {
  return new ValidationError(
    "BAD_REQUEST",
    "name the project of the ref: { project } or new Pedigree({ project })",
    undefined,
    "project",
  );
}

export type { RegistryInfo };

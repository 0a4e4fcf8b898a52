import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { type SQL, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "./schema";

export type Schema = typeof schema;
/** A database or a transaction: service functions take either. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type DatabaseKind = "pglite" | "postgres";

export interface Database {
  kind: DatabaseKind;
  /** Runs `work` in one transaction; on PGlite (one connection) transactions also queue behind each other. */
  transaction<T>(work: (tx: Db) => Promise<T>): Promise<T>;
  /** Runs read-only `work` outside an explicit transaction. */
  read<T>(work: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL("../../drizzle", import.meta.url));

/** Opens PGlite in `dataDir` (or in memory when `dataDir` is undefined) and applies migrations. */
export async function openPglite(dataDir: string | undefined): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const releaseLock = dataDir ? lockDataDir(dataDir) : () => {};
  const client = await PGlite.create(dataDir).catch((error: unknown) => {
    releaseLock();
    throw error;
  });
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  await migratePglite(db as never, { migrationsFolder });
  const queue = new SerialQueue();
  return {
    kind: "pglite",
    transaction: (work) => queue.run(() => db.transaction(work)),
    read: (work) => queue.run(() => work(db)),
    close: async () => {
      await client.close();
      releaseLock();
    },
  };
}

/**
 * PGlite has no server process of its own: two processes opening one data directory would corrupt it. A lock
 * file holding the owner's pid keeps a second server out (a lock left by a dead process is taken over).
 */
function lockDataDir(dataDir: string): () => void {
  const lockPath = join(dataDir, "pedigree.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: "wx" });
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(readFileSync(lockPath, "utf8").trim());
      if (owner && isAlive(owner)) {
        throw new Error(
          `the data directory ${dataDir} is in use by process ${owner}; stop it or use another --data-dir`,
        );
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`could not lock the data directory ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Connects to PostgreSQL at `url` and applies migrations over a single-connection client. */
export async function openPostgres(url: string, options: { maxConnections?: number } = {}): Promise<Database> {
  const migrationClient = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migratePostgres(drizzlePostgres(migrationClient), { migrationsFolder });
  } finally {
    await migrationClient.end();
  }
  const client = alwaysPrepared(postgres(url, { max: options.maxConnections ?? 10, onnotice: () => {} }));
  const db = drizzlePostgres(client, { schema }) as unknown as Db;
  return {
    kind: "postgres",
    transaction: (work) => db.transaction(work),
    read: (work) => work(db),
    close: () => client.end({ timeout: 5 }),
  };
}

export function openDatabase(config: { databaseUrl: string | undefined; dataDir: string }): Promise<Database> {
  return config.databaseUrl ? openPostgres(config.databaseUrl) : openPglite(`${config.dataDir}/pglite`);
}

/** Rows of a raw query, whichever driver ran it (postgres.js answers an array, PGlite `{ rows }`). */
export async function selectRows<Row>(db: Db, query: SQL): Promise<Row[]> {
  const result = (await db.execute(query)) as unknown as Row[] | { rows: Row[] };
  return Array.isArray(result) ? result : result.rows;
}

export { sql };

/**
 * Makes every query of `client` a prepared statement (postgres.js keeps them per connection, by text). drizzle
 * asks postgres.js to prepare only named queries, so each request paid PostgreSQL's parse and plan again;
 * all our SQL is parameterised, so the statement texts are few.
 */
function alwaysPrepared<Client extends postgres.Sql | postgres.TransactionSql>(client: Client): Client {
  const unsafe = client.unsafe.bind(client) as (query: string, params: unknown, options: object) => unknown;
  const patched: Record<string, unknown> = {
    unsafe: (query: string, params?: unknown[], queryOptions?: object) =>
      unsafe(query, params, { ...queryOptions, prepare: true }),
  };
  if ("begin" in client) {
    const begin = client.begin.bind(client) as (...args: unknown[]) => Promise<unknown>;
    patched.begin = (...args: unknown[]) => {
      const work = args.pop() as (tx: postgres.TransactionSql) => unknown;
      return begin(...args, (tx: postgres.TransactionSql) => work(alwaysPrepared(tx)));
    };
  }
  return Object.assign(client, patched);
}

/** Runs async tasks one at a time, in order: PGlite has one connection and no isolation between callers. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

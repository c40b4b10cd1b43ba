// Prisma's schema engine (diffs, migrations) driven offline: the CLI only knows the native
// engine, which it downloads from a host we cannot reach, so we run the WASM build of the
// same engine, over @prisma/adapter-pg, ourselves.
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory, ColumnTypeEnum } from "@prisma/driver-adapter-utils";
import type {
  SqlDriverAdapter,
  SqlMigrationAwareDriverAdapterFactory,
  SqlQueryable,
  SqlResultSet,
} from "@prisma/driver-adapter-utils";
import pg from "pg";

export interface PgConnection {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface SchemaFile {
  path: string;
  content: string;
}

export interface MigrationDirectory {
  /** Directory name, e.g. `20261126000000_init`. */
  name: string;
  script: string;
}

/** Where a diff starts or ends; a subset of the engine's `DiffTarget`. */
export type DiffTarget =
  | { tag: "empty" }
  | { tag: "database" }
  | { tag: "schemaDatamodel"; files: SchemaFile[] }
  | {
      tag: "migrations";
      migrationsDirectory: string;
      migrations: MigrationDirectory[];
      lockfile: string;
    };

export interface SchemaEngine {
  /**
   * The SQL that turns `from` into `to`, or null when they already match. `database` is the
   * connected database; `migrations` are replayed in a throwaway shadow database.
   */
  diff(from: DiffTarget, to: DiffTarget): Promise<string | null>;
  close(): Promise<void>;
}

export interface SchemaEngineOptions {
  connection: PgConnection;
  /** The Prisma schema the engine is constructed with (it reads the provider from it). */
  schema: SchemaFile;
  /** Receives the engine's own log lines (JSON); silent by default. */
  onLog?: (line: string) => void;
}

// --- The engine's WASM bindings, typed as far as we use them -------------------------

type EngineDiffTarget =
  | { tag: "empty" }
  | { tag: "schemaDatasource"; files: SchemaFile[]; configDir: string }
  | { tag: "schemaDatamodel"; files: SchemaFile[] }
  | {
      tag: "migrations";
      baseDir: string;
      lockfile: { path: string; content: string | null };
      migrationDirectories: {
        path: string;
        migrationFile: { path: string; content: { tag: "ok"; value: string } };
      }[];
      shadowDbInitScript: string;
    };

interface RawEngine {
  diff(params: {
    from: EngineDiffTarget;
    to: EngineDiffTarget;
    script: boolean;
    exitCode: boolean | null;
    filters: { externalTables: string[]; externalEnums: string[] };
  }): Promise<{ exitCode: number; stdout: string | null }>;
  free(): void;
}

interface Glue {
  __wbg_set_wasm(exports: unknown): void;
  SchemaEngine: {
    "new"(
      options: { datamodels: [string, string][] },
      log: (line: string) => void,
      adapter: object,
    ): Promise<RawEngine>;
  };
}

// Node 20's type definitions do not describe the WebAssembly global without the DOM lib.
interface WasmApi {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
}

// The glue module holds one WASM instance for the whole process, so it is loaded once and
// its timers are shared by every engine.
let glue: Promise<Glue> | undefined;
const pendingTimers = new Set<NodeJS.Timeout>();
let openEngines = 0;
// The bindings report a Rust panic through this global and then trap, often inside a
// promise callback where the trap surfaces as a bare "RuntimeError: unreachable": say why
// first. Without the global the report itself throws and the reason is lost.
(globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown }).PRISMA_WASM_PANIC_REGISTRY ??= {
  set_message(message: string) {
    process.stderr.write(`Prisma schema engine panicked: ${message}\n`);
  },
};

function loadGlue(): Promise<Glue> {
  glue ??= (async () => {
    const glueUrl = import.meta.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const module = (await import(glueUrl)) as Record<string, unknown>;
    const bytes = await readFile(new URL("./schema_engine_bg.wasm", glueUrl));
    const imports: Record<string, unknown> = { ...module };
    // The engine arms timers (timeouts around its queries) that keep Node alive for seconds
    // after we are done, and the bindings offer no way to cancel them: track them instead.
    for (const name of Object.keys(module).filter((key) => key.startsWith("__wbg_setTimeout_"))) {
      imports[name] = (callback: () => void, ms: number) => {
        const timer = setTimeout(() => {
          pendingTimers.delete(timer);
          callback();
        }, ms >>> 0);
        pendingTimers.add(timer);
        return timer;
      };
    }
    const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const { instance } = await wasmApi.instantiate(bytes, { "./schema_engine_bg.js": imports });
    const typed = module as unknown as Glue;
    typed.__wbg_set_wasm(instance.exports);
    (instance.exports["__wbindgen_start"] as () => void)();
    return typed;
  })();
  return glue;
}

// --- pg / adapter-pg ------------------------------------------------------------------

const CHAR_OID = 18;
const TEXT_OID = 25;

// Which columns of a result set were PostgreSQL's internal one-byte `"char"` type, keyed by
// the rows array, which adapter-pg passes through from pg to its own result unchanged.
const charColumns = new WeakMap<object, number[]>();

function hideCharColumns(result: unknown): void {
  for (const one of Array.isArray(result) ? result : [result]) {
    const { fields, rows } = (one ?? {}) as { fields?: { dataTypeID: number }[]; rows?: unknown };
    if (!fields || typeof rows !== "object" || rows === null) continue;
    const indices: number[] = [];
    fields.forEach((field, index) => {
      if (field.dataTypeID !== CHAR_OID) return;
      field.dataTypeID = TEXT_OID;
      indices.push(index);
    });
    if (indices.length > 0) charColumns.set(rows, indices);
  }
}

function restoreCharColumns(result: SqlResultSet): SqlResultSet {
  for (const index of charColumns.get(result.rows) ?? []) {
    result.columnTypes[index] = ColumnTypeEnum.Character;
  }
  return result;
}

// Introspection reads catalog columns (e.g. pg_constraint.contype) of type `"char"`, which
// adapter-pg rejects as unsupported, while the engine insists on reading them as a char:
// the client reports them as text so the adapter accepts them, and the adapter's result is
// then corrected (see restoreCharColumns).
class CharAsTextClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    const query = super.query.bind(this) as (...args: unknown[]) => unknown;
    this.query = ((...args: unknown[]) => {
      const callback = args.at(-1);
      if (typeof callback === "function") {
        args[args.length - 1] = (error: unknown, result: unknown) => {
          if (!error) hideCharColumns(result);
          (callback as (error: unknown, result: unknown) => void)(error, result);
        };
        return query(...args);
      }
      const returned = query(...args);
      return returned instanceof Promise
        ? returned.then((result: unknown) => {
            hideCharColumns(result);
            return result;
          })
        : returned;
    }) as unknown as pg.Client["query"];
  }
}

function correctCharColumns<T extends SqlQueryable>(queryable: T): T {
  const queryRaw = queryable.queryRaw.bind(queryable);
  queryable.queryRaw = async (query) => restoreCharColumns(await queryRaw(query));
  return queryable;
}

function poolConfig(connection: PgConnection): pg.PoolConfig {
  // Separate fields, never a connectionString: pg lets a connectionString override
  // `database`, which would point the "shadow" replay at the real database.
  return {
    host: connection.host,
    port: connection.port,
    user: connection.user,
    password: connection.password,
    database: connection.database,
    Client: CharAsTextClient,
    // Idle pooled connections must not keep the process alive once the engine is done.
    allowExitOnIdle: true,
  };
}

async function withClient<T>(
  connection: PgConnection,
  use: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client(poolConfig(connection));
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function connectAdapter(connection: PgConnection): Promise<SqlDriverAdapter> {
  const adapter = correctCharColumns(await new PrismaPg(poolConfig(connection)).connect());
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) =>
    correctCharColumns(await startTransaction(isolationLevel));
  // adapter-pg splits scripts on every `;`, which breaks `$$` function bodies in our
  // hand-written SQL. One simple-protocol query runs the whole script, in one implicit
  // transaction, exactly as the runtime migrator does.
  adapter.executeScript = async (script: string) => {
    await adapter.executeRaw({ sql: script, args: [], argTypes: [] });
  };
  return adapter;
}

function onceOnly(dispose: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= dispose());
}

// adapter-pg's own shadow database reuses the main pool's config (so a connectionString
// sends it to the real database) and drops it while its pool is still connected.
class AdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = "postgres";
  readonly adapterName = "@prisma/adapter-pg";
  private readonly open = new Set<() => Promise<void>>();

  constructor(private readonly connection: PgConnection) {}

  async connect(): Promise<SqlDriverAdapter> {
    return this.track(await connectAdapter(this.connection));
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const shadow = {
      ...this.connection,
      database: `coffer_shadow_${randomUUID().replaceAll("-", "")}`,
    };
    const create = `CREATE DATABASE ${pg.escapeIdentifier(shadow.database)}`;
    await withClient(this.connection, (client) => client.query(create));
    let adapter: SqlDriverAdapter;
    try {
      adapter = await connectAdapter(shadow);
    } catch (error) {
      await this.dropDatabase(shadow.database);
      throw error;
    }
    const closePool = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      try {
        await closePool();
      } finally {
        await this.dropDatabase(shadow.database);
      }
    };
    return this.track(adapter);
  }

  async disposeAll(): Promise<void> {
    await Promise.all([...this.open].map((dispose) => dispose()));
  }

  private track(adapter: SqlDriverAdapter): SqlDriverAdapter {
    const dispose = onceOnly(adapter.dispose.bind(adapter));
    adapter.dispose = async () => {
      this.open.delete(dispose);
      await dispose();
    };
    this.open.add(dispose);
    return adapter;
  }

  private async dropDatabase(name: string): Promise<void> {
    // FORCE: the engine may leave a connection open; a leftover shadow database is worse.
    const drop = `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`;
    await withClient(this.connection, (client) => client.query(drop));
  }
}

// --- The engine ----------------------------------------------------------------------

function toEngineTarget(target: DiffTarget, schema: SchemaFile): EngineDiffTarget {
  switch (target.tag) {
    case "empty":
    case "schemaDatamodel":
      return target;
    case "database":
      // The schema's datasource has no URL (Prisma 7): the engine reaches the database
      // through the adapter it was constructed with.
      return { tag: "schemaDatasource", files: [schema], configDir: process.cwd() };
    case "migrations":
      return {
        tag: "migrations",
        baseDir: target.migrationsDirectory,
        lockfile: { path: "migration_lock.toml", content: target.lockfile },
        migrationDirectories: target.migrations.map((migration) => ({
          path: migration.name,
          migrationFile: { path: "migration.sql", content: { tag: "ok", value: migration.script } },
        })),
        shadowDbInitScript: "",
      };
  }
}

export async function createSchemaEngine(options: SchemaEngineOptions): Promise<SchemaEngine> {
  const { SchemaEngine } = await loadGlue();
  const factory = new AdapterFactory(options.connection);
  const onLog = options.onLog ?? (() => undefined);
  openEngines += 1;
  let raw: RawEngine;
  try {
    raw = await SchemaEngine.new(
      { datamodels: [[options.schema.path, options.schema.content]] },
      onLog,
      bindMigrationAwareSqlAdapterFactory(factory),
    );
  } catch (error) {
    await release(factory);
    throw error;
  }
  const close = onceOnly(async () => {
    raw.free();
    await release(factory);
  });
  return {
    async diff(from, to) {
      const result = await raw.diff({
        from: toEngineTarget(from, options.schema),
        to: toEngineTarget(to, options.schema),
        script: true,
        // exitCode 2 is the engine's own verdict that the diff is not empty.
        exitCode: true,
        filters: { externalTables: [], externalEnums: [] },
      });
      return result.exitCode === 2 ? (result.stdout ?? "") : null;
    },
    close,
  };
}

async function release(factory: AdapterFactory): Promise<void> {
  try {
    await factory.disposeAll();
  } finally {
    openEngines -= 1;
    if (openEngines === 0) {
      for (const timer of pendingTimers) clearTimeout(timer);
      pendingTimers.clear();
    }
  }
}

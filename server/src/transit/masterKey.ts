import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";

export const MASTER_KEY_BYTES = 32;
export const MASTER_KEY_FILE = "transit-master.key";

/** The master key cannot be used as found; the message says what to do. */
export class MasterKeyError extends Error {
  override name = "MasterKeyError";
}

export type MasterKey = {
  key: Buffer;
  /** Where it came from, for the startup log: "COFFER_MASTER_KEY" or the file's path. */
  origin: string;
};

/**
 * LocalTransit's master key, which wraps every keyring version in the database: the
 * configured one (COFFER_MASTER_KEY), else `<dataDir>/transit-master.key`, created on
 * first use with 32 random bytes and mode 0600. A file that group or others can read, or
 * that is not exactly 32 bytes, is refused rather than repaired: either means someone
 * else may have it, or it is not the key the keyrings were wrapped with.
 */
export async function loadMasterKey(options: {
  configured: Buffer | undefined;
  dataDir: string;
}): Promise<MasterKey> {
  if (options.configured) {
    if (options.configured.length !== MASTER_KEY_BYTES) {
      throw new MasterKeyError(
        `COFFER_MASTER_KEY must decode to exactly ${MASTER_KEY_BYTES} bytes (it has ${options.configured.length})`,
      );
    }
    return { key: Buffer.from(options.configured), origin: "COFFER_MASTER_KEY" };
  }
  const file = path.join(path.resolve(options.dataDir), MASTER_KEY_FILE);
  const existing = await readKeyFile(file);
  if (existing) return { key: existing, origin: file };
  await createKeyFile(file);
  const created = await readKeyFile(file);
  if (!created)
    throw new MasterKeyError(`the transit master key file ${file} vanished while it was created`);
  return { key: created, origin: file };
}

async function readKeyFile(file: string): Promise<Buffer | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile())
      throw new MasterKeyError(`the transit master key ${file} is not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      throw new MasterKeyError(
        `refusing the transit master key ${file}: its mode ${(stat.mode & 0o777).toString(8).padStart(4, "0")} lets group or others read it. ` +
          `Run \`chmod 600 ${file}\` if nobody else can have copied it; otherwise treat it as leaked.`,
      );
    }
    const key = await handle.readFile();
    if (key.length !== MASTER_KEY_BYTES) {
      throw new MasterKeyError(
        `the transit master key ${file} has ${key.length} bytes instead of ${MASTER_KEY_BYTES}. ` +
          `Restore the original file; delete it only if LocalTransit never encrypted anything with it.`,
      );
    }
    return key;
  } finally {
    await handle.close();
  }
}

/**
 * Writes the key to a private temporary file and links it into place: another process
 * starting at the same time either wins (EEXIST here; we then read its key) or reads ours
 * complete, never a half-written file.
 */
async function createKeyFile(file: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await fs.open(temporary, "wx", 0o600);
  try {
    await handle.writeFile(randomBytes(MASTER_KEY_BYTES));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.link(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await fs.rm(temporary, { force: true });
  }
}

import { Prisma } from "../generated/prisma/client.ts";
import { ConflictError } from "./ConflictError.ts";

/** A unique index refused the write (Prisma's P2002). */
export const isUniqueViolation = (error: unknown) =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";

/** The one place that turns a unique violation into a domain conflict. */
export async function conflictOnUnique<T>(work: () => Promise<T>, message: string): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(message);
    throw error;
  }
}

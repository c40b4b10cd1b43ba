import { Prisma } from "../generated/prisma/client.ts";
import { ConflictError } from "./ConflictError.ts";

/** The one place that turns a unique violation into a domain conflict. */
export async function conflictOnUnique<T>(work: () => Promise<T>, message: string): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
      throw new ConflictError(message);
    }
    throw error;
  }
}

import type { Metrics } from "../ops/metrics.ts";
import type { Transit } from "./Transit.ts";

/** The same Transit, timing every call and counting failures by their typed code. */
export function instrumentedTransit(
  transit: Transit,
  metrics: Pick<Metrics, "transitDuration" | "transitErrors">,
): Transit {
  const timed =
    <A extends unknown[], R>(operation: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const end = metrics.transitDuration.startTimer({ operation });
      try {
        return await call(...args);
      } catch (error) {
        metrics.transitErrors.inc({
          operation,
          code: (error as { code?: string }).code ?? "UNKNOWN",
        });
        throw error;
      } finally {
        end();
      }
    };
  return {
    kind: transit.kind,
    createKey: timed("createKey", (name) => transit.createKey(name)),
    readKey: timed("readKey", (name) => transit.readKey(name)),
    rotateKey: timed("rotateKey", (name) => transit.rotateKey(name)),
    setMinDecryptionVersion: timed("setMinDecryptionVersion", (name, version: number) =>
      transit.setMinDecryptionVersion(name, version),
    ),
    deleteKey: timed("deleteKey", (name) => transit.deleteKey(name)),
    encrypt: timed("encrypt", (name, items: readonly Buffer[]) => transit.encrypt(name, items)),
    decrypt: timed("decrypt", (name, items: readonly string[]) => transit.decrypt(name, items)),
    rewrap: timed("rewrap", (name, items: readonly string[]) => transit.rewrap(name, items)),
  };
}

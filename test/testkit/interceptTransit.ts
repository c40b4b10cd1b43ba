import type { Transit } from "../../server/src/transit/Transit.ts";

type Method = {
  [K in keyof Transit]: Transit[K] extends (...args: never[]) => unknown ? K : never;
}[keyof Transit];

/**
 * The transit engine with `before` awaited ahead of every call: to count calls, slow them
 * down, hold them, or fail them (a `before` that throws fails the call).
 */
export function interceptTransit(
  inner: Transit,
  before: (method: Method) => void | Promise<void>,
): Transit {
  return new Proxy(inner, {
    get(target, prop: keyof Transit) {
      const value = target[prop];
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        await before(prop as Method);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

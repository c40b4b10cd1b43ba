import { expect } from "vitest";
import { fold, type Decider } from "../../server/src/domain/decider.ts";

/** given(events).when(command).then(events | error) over a pure decider. */
export function given<C, E extends { type: string; data: object }, S>(
  decider: Decider<C, E, S>,
  history: E[] = [],
) {
  return {
    when(command: C) {
      const run = () => decider.decide(command, fold(decider, history));
      return {
        then(expected: E[]) {
          expect(run()).toEqual(expected);
        },
        thenThrows(errorClass: abstract new (...args: never[]) => Error, message?: RegExp) {
          expect(run).toThrow(errorClass);
          if (message) expect(run).toThrow(message);
        },
      };
    },
  };
}

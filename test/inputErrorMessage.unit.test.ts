import { describe, expect, it } from "vitest";
import { withoutInputValues } from "../server/src/graphql/inputErrorMessage.ts";

describe("withoutInputValues", () => {
  it.each([
    [
      'Variable "$i" got invalid value "hunter2" at "i.values[0].value"; String cannot represent a non string value: 42',
      'Variable "$i" got an invalid value at "i.values[0].value"; String cannot represent this non string value',
    ],
    [
      'String cannot represent a non string value: { nested: "hunter2" }',
      "String cannot represent this non string value",
    ],
    [
      'Expected value of type "Int!", found "hunter2"; extra',
      'Expected value of type "Int!"; extra',
    ],
    [
      'Enum "SecretScope" cannot represent non-enum value: "hunter2".',
      'Enum "SecretScope" cannot represent this value',
    ],
    [
      'Variable "$i" got invalid value "HUNTER2" at "i.type"; Value "hunter2 \\"quoted\\"" does not exist in "SecretType" enum.',
      'Variable "$i" got an invalid value at "i.type"; This value does not exist in the "SecretType" enum.',
    ],
  ])("%s", (message, expected) => {
    expect(withoutInputValues(message)).toBe(expected);
    expect(withoutInputValues(message)).not.toContain("hunter2");
  });

  it("leaves messages without values alone", () => {
    expect(withoutInputValues('Cannot query field "viewr" on type "Query".')).toBe(
      'Cannot query field "viewr" on type "Query".',
    );
  });
});

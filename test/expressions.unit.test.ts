import { describe, expect, it } from "vitest";
import { ValidationError } from "../server/src/errors/ValidationError.ts";
import { findSecretRefs, refId, substitute } from "../server/src/resolution/expressions.ts";
import { redact } from "../server/src/resolution/redact.ts";

describe("secret expressions", () => {
  it("substitutes exactly like the lazy ${{ … }} pattern, on many random strings", () => {
    // The reference: the straightforward (but quadratic) regular expressions it replaced.
    const SECRET = /^\s*SECRETS\.([a-z0-9][a-z0-9_-]{0,127})\.([A-Za-z_][A-Za-z0-9_]{0,127})\s*$/;
    const reference = (text: string) => {
      const whole = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/.exec(text);
      const single = whole ? SECRET.exec(whole[1]!) : null;
      if (single) return `<${single[1]}.${single[2]}>`;
      return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (expression, inner: string) => {
        const parsed = SECRET.exec(inner);
        return parsed ? `<${parsed[1]}.${parsed[2]}>` : expression;
      });
    };
    const pieces = ["${{", "}}", " SECRETS.a.K ", "SECRETS.b.K", "x", "$", "{", "}", " "];
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let n = 0; n < 5000; n++) {
      const text = Array.from(
        { length: 1 + Math.floor(random() * 12) },
        () => pieces[Math.floor(random() * pieces.length)]!,
      ).join("");
      expect(
        substitute(text, (ref) => `<${refId(ref)}>`),
        JSON.stringify(text),
      ).toBe(reference(text));
    }
  });

  it("answers at once for a 2 MB string of unclosed expressions", () => {
    const text = "${{ SECRETS ".repeat(170_000);
    expect(() => findSecretRefs({ text })).toThrow(ValidationError);
  });

  it("finds every reference in any JSON tree, whitespace-tolerant, hyphenated names, each once", () => {
    const args = {
      channel: "${{ SECRETS.slack.ALERTS_CHANNEL }}",
      text: "New finding: ${{ TRIGGER.finding_id }} via ${{SECRETS.slack.SLACK_BOT_TOKEN}}",
      headers: [{ Authorization: "Bearer ${{   SECRETS.github-pat.TOKEN   }}" }, 42, null, true],
      again: "${{ SECRETS.slack.SLACK_BOT_TOKEN }}",
    };
    expect(findSecretRefs(args)).toEqual([
      { name: "slack", key: "ALERTS_CHANNEL" },
      { name: "slack", key: "SLACK_BOT_TOKEN" },
      { name: "github-pat", key: "TOKEN" },
    ]);
  });

  it("names the argument path of every malformed expression at once", () => {
    const args = {
      a: "${{ SECRETS.slack }}",
      b: [{ c: "x ${{ SECRETS.Bad Name.KEY }}" }],
      d: "${{ SECRETS.slack.TOKEN",
    };
    let error: ValidationError | undefined;
    try {
      findSecretRefs(args);
    } catch (e) {
      error = e as ValidationError;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect(error!.issues.map((i) => i.path)).toEqual([
      "arguments.a",
      "arguments.b[0].c",
      "arguments.d",
    ]);
    expect(error!.issues[2]!.message).toMatch(/unclosed/);
  });

  it("substitutes: a whole-string expression becomes the value, others are interpolated", () => {
    const values: Record<string, string> = {
      "slack.SLACK_BOT_TOKEN": "xoxb-1",
      "github-pat.TOKEN": "ghp_2",
    };
    const out = substitute(
      {
        token: " ${{ SECRETS.slack.SLACK_BOT_TOKEN }} ",
        auth: "Bearer ${{SECRETS.github-pat.TOKEN}}!",
        keep: "${{ TRIGGER.x }}",
        n: 3,
      },
      (ref) => values[`${ref.name}.${ref.key}`]!,
    );
    expect(out).toEqual({ token: "xoxb-1", auth: "Bearer ghp_2!", keep: "${{ TRIGGER.x }}", n: 3 });
  });
});

describe("redact", () => {
  it("masks raw, JSON-escaped and URL-encoded forms, longest first, and ignores short values", () => {
    const secret = 'p@ss"word/with spaces';
    const text = `raw=${secret} json=${JSON.stringify({ v: secret })} url=${encodeURIComponent(secret)} short=abc long=abcdefgh`;
    const out = redact(text, [secret, "abc", "abcdefgh", "abcd"]);
    expect(out).toBe('raw=*** json={"v":"***"} url=*** short=abc long=***');
    expect(out).not.toContain("word");
  });
});

/**
 * Masks resolved secret values in text a platform is about to log: each value in its raw,
 * JSON-escaped and URL-encoded forms, longest first (so a value containing another is
 * masked whole). Values shorter than `minLength` are ignored: masking "1" or "true"
 * everywhere would destroy the log without protecting anything.
 */
export function redact(
  text: string,
  values: Iterable<string>,
  options: { mask?: string; minLength?: number } = {},
): string {
  const mask = options.mask ?? "***";
  const minLength = options.minLength ?? 4;
  const forms = new Set<string>();
  for (const value of values) {
    if (value.length < minLength) continue;
    forms.add(value);
    forms.add(JSON.stringify(value).slice(1, -1));
    forms.add(encodeURIComponent(value));
  }
  let out = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    if (form.length >= minLength) out = out.split(form).join(mask);
  }
  return out;
}

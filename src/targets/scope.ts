/**
 * The one printable and comparable form of a file's scope, or of the key a shared build is
 * made for: JSON with object keys sorted and absent fields left out, so two equal scopes
 * print alike whatever order their fields were written in, and nothing has to be parsed
 * back. Generic code (the shared builds' cache, messages, sorting) takes a scope's text from
 * here; a target reads its own scopes as the data they are.
 */
export function scopeKey(scope: unknown): string {
  return JSON.stringify(canonical(scope)) ?? 'null';
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const field = (value as Record<string, unknown>)[key];
    if (field !== undefined) out[key] = canonical(field);
  }
  return out;
}

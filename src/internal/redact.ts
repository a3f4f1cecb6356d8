/**
 * A URL as it may appear in logs and errors: scheme and host only. Hosted nodes and webhooks put
 * API keys and tokens in the path, query or user info, so anything beyond the host becomes "/…".
 */
export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    const rest = u.pathname !== "/" || u.search || u.hash || u.username || u.password ? "/…" : "";
    return `${u.protocol}//${u.host}${rest}`;
  } catch {
    const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(value)?.[0];
    return scheme ? `${scheme}…` : "…";
  }
}

/**
 * A node URL as it may appear in logs and errors. Hosted providers put the API key in the path
 * (`wss://mainnet.infura.io/ws/v3/<key>`), the query or the user info, so only the scheme, host
 * and port are shown; a hidden part is marked so the user knows it was there.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "(invalid URL)";
  }
  const hidden =
    parsed.username !== "" || parsed.password !== "" || parsed.search !== "" || parsed.hash !== "";
  const path = parsed.pathname === "/" || parsed.pathname === "" ? "" : "/…";
  return `${parsed.protocol}//${parsed.host}${path}${hidden && path === "" ? "/…" : ""}`;
}

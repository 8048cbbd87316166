/**
 * A connection string as it may be printed: the password (everything between
 * `://` and the last `@`, but a user name before a `:`) becomes `***`. Used
 * wherever EVENTSTORE_URL reaches a message or a log line. Hand-written, since
 * WHATWG URL parsing refuses EventStoreDB's multi-host strings
 * (`esdb://user:pass@a:2113,b:2113`), and an invalid string must be redacted too.
 */
export function redactUrl(url: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url)?.[0] ?? '';
  const rest = url.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  if (at < 0) return url;
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(':');
  const user = colon < 0 ? '***' : `${userinfo.slice(0, colon)}:***`;
  return `${scheme}${user}${rest.slice(at)}`;
}

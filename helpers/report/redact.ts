/** Secrets never reach a report or a log: every attachment passes through here. */

// names whose values are secrets: exact ones, and any that contains password or secret, or ends in
// _token / a key name (not idempotency_key: those are evidence)
const SECRET_KEYS =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|jwt|access|refresh|token|pass|passphrase|credentials?|key|.*passw(or)?d.*|.*pwd|.*secret.*|.*[_-]token|(secret|signing|private|api)[_-]?key)$/i;
/** An Idempotency-Key the suite made (prefix-uuid): evidence, not a secret, even under a field named "key". */
const SUITE_KEY = /^[a-z][a-z0-9-]*-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const JWT = /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g;
// scheme://user:password@ and scheme://:password@ (no user)
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]+@/gi;
const BEARER = /(Bearer\s+)[^\s"']+/gi;
// an Authorization header of any scheme in free text, and Basic/Token credentials
const AUTH_HEADER = /(\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:[A-Za-z-]+\s+)?)[^\s"',;]+/gi;
const SCHEME_CREDENTIALS = /(\b(?:Basic|Token|Digest|ApiKey)\s+)[A-Za-z0-9+/=._~-]{8,}/g;
// a secret in a query string: ?token=, &api_key=, &passphrase= ...
const QUERY_SECRET =
  /([?&](?:token|access_token|refresh_token|api[_-]?key|key|passphrase|password|pass|secret|sig|signature|auth)=)[^&\s"'#]+/gi;
// NAME=value, NAME: value, "name": "value" where the name says password, secret, token or a key;
// a quoted value is masked to its closing quote (spaces and all)
const SECRET_ASSIGN =
  /\b([\w-]*(?:passw(?:or)?d|passphrase|pwd|secret|[_-]token|access_token|refresh_token|(?:secret|signing|private|api)[_-]?key))(["']?\s*[=:]\s*)(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s"'&;,]+)/gi;
// SQL: CREATE/ALTER ROLE ... PASSWORD 'x'
const SQL_PASSWORD = /\b(PASSWORD\s+)'(?:[^']|'')*'/gi;

/** Masks JWTs, passwords in URLs, Authorization headers and credentials, query-string secrets, secret assignments and SQL passwords in free text. */
export function redactText(text: string): string {
  return text
    .replace(URL_PASSWORD, '$1***@')
    .replace(BEARER, '$1***')
    .replace(AUTH_HEADER, '$1***')
    .replace(SCHEME_CREDENTIALS, '$1***')
    .replace(JWT, 'eyJ***')
    .replace(QUERY_SECRET, '$1***')
    .replace(SQL_PASSWORD, "$1'***'")
    .replace(SECRET_ASSIGN, (_m, name: string, sep: string, offset: number, whole: string) => {
      const quote = whole[offset + name.length + sep.length];
      return `${name}${sep}${quote === '"' || quote === "'" ? `${quote}***${quote}` : '***'}`;
    });
}

/** Deep copy with secret-named keys masked and every string passed through redactText. */
export function redact<T>(value: T): T {
  return redactValue(value) as T;
}

function redactValue(value: unknown, key?: string): unknown {
  if (key !== undefined && SECRET_KEYS.test(key) && value !== null && value !== undefined && value !== '') {
    if (!(key === 'key' && typeof value === 'string' && SUITE_KEY.test(value))) return '***';
  }
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, k)]));
  }
  return value;
}

/** A body shown in an assertion message: cut to max characters, then redacted. */
export function shown(text: string | undefined, max = 200): string {
  return redactText((text ?? '').slice(0, max));
}

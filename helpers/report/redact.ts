/** Secrets never reach a report or a log: every attachment passes through here. */

// names whose values are secrets: exact ones, and any that contains password or secret, or ends in
// _token / a key name (not idempotency_key: those are evidence)
const SECRET_KEYS =
  /^(authorization|cookie|set-cookie|x-api-key|jwt|access|refresh|token|.*passw(or)?d.*|.*pwd|.*secret.*|.*[_-]token|(secret|signing|private|api)[_-]?key)$/i;
const JWT = /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s]+@/gi;
const BEARER = /(Bearer\s+)[^\s"']+/gi;
// NAME=value, NAME: value, "name": "value" where the name says password, secret, token or a key
const SECRET_ASSIGN =
  /\b([\w-]*(?:passw(?:or)?d|pwd|secret|[_-]token|access_token|refresh_token|(?:secret|signing|private|api)[_-]?key))(["']?\s*[=:]\s*)(["']?)[^\s"'&;,]+/gi;
// SQL: CREATE/ALTER ROLE ... PASSWORD 'x'
const SQL_PASSWORD = /\b(PASSWORD\s+)'(?:[^']|'')*'/gi;

/** Masks JWTs, passwords in URLs, bearer tokens, secret assignments and SQL passwords in free text. */
export function redactText(text: string): string {
  return text
    .replace(URL_PASSWORD, '$1***@')
    .replace(BEARER, '$1***')
    .replace(JWT, 'eyJ***')
    .replace(SQL_PASSWORD, "$1'***'")
    .replace(SECRET_ASSIGN, '$1$2$3***');
}

/** Deep copy with secret-named keys masked and every string passed through redactText. */
export function redact<T>(value: T): T {
  return redactValue(value) as T;
}

function redactValue(value: unknown, key?: string): unknown {
  if (key !== undefined && SECRET_KEYS.test(key) && value !== null && value !== undefined && value !== '') return '***';
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

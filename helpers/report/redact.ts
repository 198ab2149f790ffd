/** Secrets never reach a report or a log: every attachment passes through here. */

const SECRET_KEYS = /^(authorization|cookie|set-cookie|password|access|refresh|token|jwt|secret.*|.*password.*|x-api-key)$/i;
const JWT = /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s]+@/gi;
const BEARER = /(Bearer\s+)[^\s"']+/gi;
const PASSWORD_ASSIGN = /\b(password|PGPASSWORD|pwd)(\s*[=:]\s*)("?)[^\s"&;]+/gi;

/** Masks JWTs, passwords in URLs, bearer tokens and password=... in free text. */
export function redactText(text: string): string {
  return text
    .replace(URL_PASSWORD, '$1***@')
    .replace(BEARER, '$1***')
    .replace(JWT, 'eyJ***')
    .replace(PASSWORD_ASSIGN, '$1$2$3***');
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

/** What an error body must never show a client: tracebacks, SQL, DSNs, host:port, passwords. */

const CHECKS: ReadonlyArray<[string, RegExp]> = [
  ['a traceback', /Traceback \(most recent call last\)|File "[^"]+", line \d+/],
  ['SQL', /\b(SELECT\s[\s\S]{0,200}\sFROM|INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM)\b|\bstore_(orderrequest|orderline|product)\b/i],
  ['a DSN', /postgres(ql)?:\/\/|\bdbname=|\bhost=\S|\buser=\S/i],
  ['host:port', /\b(?:\d{1,3}\.){3}\d{1,3}\b|\blocalhost:\d+|\bport \d{2,5}\b/i],
  ['a password', /password/i],
  ['an exception class', /\b(OperationalError|InterfaceError|DatabaseError|psycopg2?)\b/],
];

/** Names of what body leaks (empty when clean); secrets are exact strings that must not appear. */
export function findLeaks(body: string, secrets: readonly string[] = []): string[] {
  const found = CHECKS.filter(([, re]) => re.test(body)).map(([name]) => name);
  if (secrets.some((s) => s.length >= 4 && body.includes(s))) found.push('a secret of the stack');
  return found;
}

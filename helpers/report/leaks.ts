/** What an error body must never show a client: tracebacks, SQL, DSNs, host:port, passwords. */

const CHECKS: ReadonlyArray<[string, RegExp]> = [
  ['a traceback', /Traceback \(most recent call last\)|File "[^"]+", line \d+/],
  ['SQL', /\b(SELECT\s[\s\S]{0,200}\sFROM|INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM)\b|\bstore_(orderrequest|orderline|product)\b/i],
  ['a DSN', /postgres(ql)?:\/\/|\bdbname=|\bhost=\S|\buser=\S/i],
  ['host:port', /\b(?:\d{1,3}\.){3}\d{1,3}\b|\blocalhost:\d+|\bport \d{2,5}\b/i],
  // a password's value (password=..., "password": "...", PASSWORD: x), not the field's name in a validation error
  ['a password', /passw(or)?d["']?\s*[:=]\s*["']?[^\s"'[{,;&]/i],
  [
    'an exception class',
    /\b(OperationalError|InterfaceError|DatabaseError|IntegrityError|DataError|ProgrammingError|psycopg2?|django\.db)\b/,
  ],
  // what libpq, psycopg and PostgreSQL say: it varies with the cause, and against a real deployment it
  // names the server (the embedded store reaches PostgreSQL through the fault proxy, which hides it)
  [
    "a database driver's message",
    new RegExp(
      [
        'server closed the connection unexpectedly',
        'terminated abnormally',
        'could not connect to server',
        'connection to server (at|on)',
        'is the server running',
        'connection refused',
        'connection reset by peer',
        'timeout expired',
        'could not (receive|send) data (from|to) server',
        'SSL (SYSCALL error|connection has been closed)',
        'no connection to the server',
        'connection already closed',
        'could not translate host name',
        'authentication failed for user',
        'the database system is (starting up|shutting down|in recovery)',
        'terminating connection due to',
        'canceling statement due to',
        'deadlock detected',
        'could not obtain lock',
        'current transaction is aborted',
        'duplicate key value violates',
        'violates (foreign key|not-null|check|unique|exclusion) constraint',
        'null value in column',
        'invalid input syntax for',
        'value too long for type',
        'numeric field overflow',
        'out of range for type',
        '(relation|column) "[^"]+" does not exist',
        'too many clients already',
        'remaining connection slots are reserved',
        'in a read-only transaction',
        '\\b(FATAL|PANIC):',
      ].join('|'),
      'i',
    ),
  ],
];

/** Names of what body leaks (empty when clean); secrets are exact strings that must not appear. */
export function findLeaks(body: string, secrets: readonly string[] = []): string[] {
  const found = CHECKS.filter(([, re]) => re.test(body)).map(([name]) => name);
  if (secrets.some((s) => s.length >= 4 && body.includes(s))) found.push('a secret of the stack');
  return found;
}

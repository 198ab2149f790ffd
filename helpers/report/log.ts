/** Progress lines of the suite's own machinery (setup, teardown, scripts), on stderr. */
export function log(message: string): void {
  process.stderr.write(`[store-resilience] ${message}\n`);
}

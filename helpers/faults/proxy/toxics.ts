/**
 * The fault proxy's toxics, in Toxiproxy's vocabulary and with its semantics: their types and
 * attributes, the validation of a new one, and what each does to a connection and to the chunks of
 * its stream (upstream: client -> server, downstream: server -> client).
 *
 * A toxic applies to a connection with probability `toxicity` (0..1, default 1), drawn once for each
 * connection when it opens or when the toxic is added, as Toxiproxy does.
 * - timeout   {timeout}: no data passes on its stream; with timeout > 0 the connection is closed after
 *                        that many ms, with 0 it stays open and data is dropped until the toxic is removed
 * - reset_peer {timeout}: the first data on its stream is dropped and the connection reset (TCP RST)
 *                        timeout ms later (0: at once)
 * - latency   {latency, jitter}: every chunk of its stream is delayed (order kept)
 * An extension of our own, for PostgreSQL (../pg-wire.ts), which reads the client's statements
 * whatever its stream:
 * - pg_statement_cut {statement, after, unreachable}: each connection's statements are counted from
 *   the moment the toxic is added; at statement k the connection is reset, either before k reaches
 *   the server (after 0) or once the server has executed k and before its answer reaches the client
 *   (after 1); with unreachable 1 new connections are reset too until the toxic is removed. Its
 *   attribute `fired` counts the cuts.
 */
export type ToxicType = 'timeout' | 'reset_peer' | 'latency' | 'pg_statement_cut';
const TOXIC_TYPES: readonly ToxicType[] = ['timeout', 'reset_peer', 'latency', 'pg_statement_cut'];
export type Stream = 'upstream' | 'downstream';

export interface Toxic {
  readonly name: string;
  readonly type: ToxicType;
  readonly stream: Stream;
  readonly toxicity: number;
  readonly attributes: Readonly<Record<string, number>>;
}

/** A toxic as a client describes it: what is left out takes Toxiproxy's defaults. */
export interface ToxicInput {
  readonly name?: string;
  readonly type: ToxicType;
  readonly stream?: Stream;
  readonly toxicity?: number;
  readonly attributes?: Record<string, number>;
}

/** An error with the HTTP status the control API answers. */
export class ProxyApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function defaultAttributes(type: ToxicType): Record<string, number> {
  switch (type) {
    case 'timeout':
    case 'reset_peer':
      return { timeout: 0 };
    case 'latency':
      return { latency: 0, jitter: 0 };
    case 'pg_statement_cut':
      return { statement: 0, after: 0, unreachable: 0 };
  }
}

/** A toxic with its defaults filled in; a 400 for one that cannot be applied. */
export function newToxic(input: ToxicInput): Toxic {
  const stream = input.stream ?? 'downstream';
  const toxicity: unknown = input.toxicity ?? 1;
  if (typeof toxicity !== 'number' || !(toxicity >= 0 && toxicity <= 1)) {
    throw new ProxyApiError(
      400,
      `toxicity must be a number from 0 to 1 (the probability that a connection gets the toxic), got ${String(toxicity)}`,
    );
  }
  const toxic: Toxic = {
    name: input.name ?? `${input.type}_${stream}`,
    type: input.type,
    stream,
    toxicity,
    attributes: { ...defaultAttributes(input.type), ...input.attributes },
  };
  if (toxic.type === 'pg_statement_cut' && (!Number.isInteger(toxic.attributes.statement) || (toxic.attributes.statement ?? 0) < 1)) {
    throw new ProxyApiError(400, 'pg_statement_cut needs attributes.statement, an integer >= 1');
  }
  return toxic;
}

/** The toxic a POST /proxies/{name}/toxics body describes (its values are checked by newToxic). */
export function toxicFromBody(body: Record<string, unknown>): ToxicInput {
  const type = body.type;
  if (!TOXIC_TYPES.includes(type as ToxicType)) {
    throw new ProxyApiError(400, `unsupported toxic type ${JSON.stringify(type)} (${TOXIC_TYPES.join(', ')})`);
  }
  if (body.toxicity !== undefined && body.toxicity !== null && typeof body.toxicity !== 'number') {
    throw new ProxyApiError(400, `toxicity must be a number from 0 to 1, got ${JSON.stringify(body.toxicity)}`);
  }
  // Toxiproxy refuses a stream it does not know; none given is downstream
  if (body.stream !== undefined && body.stream !== 'upstream' && body.stream !== 'downstream') {
    throw new ProxyApiError(400, `stream must be "upstream" or "downstream", got ${JSON.stringify(body.stream)}`);
  }
  return {
    name: typeof body.name === 'string' ? body.name : undefined,
    type: type as ToxicType,
    stream: body.stream === 'upstream' ? 'upstream' : 'downstream',
    toxicity: body.toxicity ?? undefined,
    attributes: (body.attributes ?? {}) as Record<string, number>,
  };
}

/** Whether a toxic applies to a connection: drawn once per connection, with probability = its toxicity. */
export function draws(toxic: Toxic, random: () => number = Math.random): boolean {
  return random() < toxic.toxicity;
}

/** What a toxic does to a connection once it applies to it: a timeout > 0 closes it that many ms later. */
export function closesAfter(toxic: Toxic): number | undefined {
  const ms = toxic.attributes.timeout ?? 0;
  return toxic.type === 'timeout' && ms > 0 ? ms : undefined;
}

/** What the toxics of a connection do to a chunk arriving on `stream`. */
export type ChunkFate =
  { readonly kind: 'drop' } | { readonly kind: 'reset'; readonly afterMs: number } | { readonly kind: 'pass'; readonly delayMs: number };

/** The fate of a chunk on `stream` under a connection's toxics (in the order they were added). */
export function chunkFate(toxics: readonly Toxic[], stream: Stream): ChunkFate {
  const mine = toxics.filter((t) => t.stream === stream);
  const stop = mine.find((t) => t.type === 'timeout' || t.type === 'reset_peer');
  if (stop?.type === 'timeout') return { kind: 'drop' };
  // reset_peer, as Toxiproxy's: triggered by data on its own stream (upstream: the client sends, downstream: the server answers)
  if (stop?.type === 'reset_peer') return { kind: 'reset', afterMs: stop.attributes.timeout ?? 0 };
  const delayMs = mine
    .filter((t) => t.type === 'latency')
    .reduce((sum, t) => sum + (t.attributes.latency ?? 0) + Math.round((Math.random() * 2 - 1) * (t.attributes.jitter ?? 0)), 0);
  return { kind: 'pass', delayMs };
}

/** The pg_statement_cut among a connection's toxics that fires at its statement `n`, if any. */
export function statementCut(toxics: readonly Toxic[], n: number): Toxic | undefined {
  return toxics.find((t) => t.type === 'pg_statement_cut' && t.attributes.statement === n);
}

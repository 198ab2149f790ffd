/**
 * A bounded load runner: N virtual users issue a weighted mix of requests until stopped, with a
 * hard cap on requests and on time. Every request is recorded with the phase it started in.
 */
import type { NetworkErrorKind } from '../api/store-api';
import { delay } from '../wait';
import { HttpClient, type HttpResult } from './http-client';

/**
 * After a request that got no answer (refused, reset), a virtual user without think time waits this
 * long, as a real client backs off: a store that refuses in microseconds would otherwise be hammered
 * in a hot loop (2300 refusals in one restart), and the CPU that takes slows the restart it measures.
 */
const NETWORK_ERROR_PAUSE_MS = 5;

export interface LoadOp {
  readonly name: string;
  readonly weight: number;
  /** builds the request for virtual user vu's seq-th request */
  build(
    vu: number,
    seq: number,
  ): { method: string; path: string; body?: unknown; headers?: Record<string, string>; key?: string; anonymous?: boolean };
  /** keep each 2xx answer's content, so that Verify can judge what it said */
  readonly judged?: boolean;
}

export interface LoadRecord {
  readonly vu: number;
  readonly seq: number;
  readonly op: string;
  readonly phase: string;
  /** epoch ms */
  readonly start: number;
  readonly end: number;
  readonly status?: number;
  readonly errorKind?: NetworkErrorKind;
  /** Idempotency-Key, for orders */
  readonly key?: string;
  /** order id from a 2xx order answer */
  readonly orderId?: number;
  /** the body of a non-2xx answer (kept for leak checks), truncated; only the server's words */
  readonly errorBody?: string;
  /** the client-side error when no answer came (ECONNREFUSED ...) */
  readonly errorMessage?: string;
  /** the first try hit a kept-alive socket the server had closed and was retried on a fresh one */
  readonly retriedStaleSocket?: boolean;
  /** the answer replayed an existing order (Idempotent-Replayed): an earlier try of this key was written */
  readonly replayed?: boolean;
  /** the request's path (the content judge needs it) */
  readonly path: string;
  /** a 2xx answer's content: its index in the runner's `answers` (identical answers share one) */
  readonly answer?: number;
}

export interface LoadOptions {
  readonly baseUrl: string;
  readonly concurrency: number;
  readonly ops: readonly LoadOp[];
  /** hard caps: the runner stops at whichever comes first */
  readonly maxDurationMs: number;
  readonly maxRequests: number;
  readonly timeoutMs: number;
  /** pause between a VU's requests (0: back to back) */
  readonly thinkTimeMs?: number;
  /** label of the current phase, read when each request starts */
  readonly phase?: () => string;
  readonly token?: string;
}

/** Runs virtual users until stop(), maxDurationMs or maxRequests. */
export class LoadRunner {
  readonly records: LoadRecord[] = [];
  /** the distinct contents of the 2xx answers kept for judging (records point into it) */
  readonly answers: string[] = [];
  private readonly answerIndex = new Map<string, number>();
  private stopping = false;
  private issued = 0;
  private running: Promise<void> | undefined;
  private readonly client: HttpClient;
  private readonly totalWeight: number;
  startedAt = 0;
  endedAt = 0;

  constructor(readonly opts: LoadOptions) {
    if (opts.ops.length === 0) throw new Error('LoadRunner: no ops');
    this.client = new HttpClient(opts.baseUrl, opts.concurrency * 2);
    this.totalWeight = opts.ops.reduce((s, o) => s + o.weight, 0);
  }

  /** Starts the virtual users (returns at once). */
  start(): this {
    if (this.running) throw new Error('LoadRunner: already started');
    this.startedAt = Date.now();
    const deadline = this.startedAt + this.opts.maxDurationMs;
    const vus = Array.from({ length: this.opts.concurrency }, (_, vu) => this.virtualUser(vu, deadline));
    this.running = Promise.all(vus).then(() => {
      this.endedAt = Date.now();
      this.client.close();
    });
    return this;
  }

  /** Asks every VU to finish its current request, and waits for them. */
  async stop(): Promise<LoadRecord[]> {
    this.stopping = true;
    await this.running;
    return this.records;
  }

  /** `await using load = new LoadRunner(...).start()`: stopped when the scope ends. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Resolves when the runner ended by itself (caps) or was stopped. */
  async finished(): Promise<LoadRecord[]> {
    await this.running;
    return this.records;
  }

  get isRunning(): boolean {
    return this.running !== undefined && this.endedAt === 0;
  }

  /** The index of a 2xx content in `answers` (a repeated answer is stored once). */
  private answerOf(text: string): number {
    let i = this.answerIndex.get(text);
    if (i === undefined) {
      i = this.answers.push(text) - 1;
      this.answerIndex.set(text, i);
    }
    return i;
  }

  private pick(seq: number): LoadOp {
    if (this.opts.ops.length === 1) return this.opts.ops[0]!;
    // deterministic weighted round-robin: the same mix on every run
    let point = (seq * 7919) % this.totalWeight;
    for (const op of this.opts.ops) {
      if (point < op.weight) return op;
      point -= op.weight;
    }
    return this.opts.ops[this.opts.ops.length - 1]!;
  }

  private async virtualUser(vu: number, deadline: number): Promise<void> {
    // the headers every request of this user sends, built once (the runner's CPU is taken from the server)
    const auth: Readonly<Record<string, string>> = this.opts.token ? { Authorization: `Bearer ${this.opts.token}` } : {};
    for (let seq = 0; !this.stopping && Date.now() < deadline && this.issued < this.opts.maxRequests; seq++) {
      this.issued++;
      const op = this.pick(seq * this.opts.concurrency + vu);
      const spec = op.build(vu, seq);
      const phase = this.opts.phase?.() ?? 'load';
      const start = Date.now();
      const res: HttpResult = await this.client.request({
        method: spec.method,
        path: spec.path,
        body: spec.body,
        timeoutMs: this.opts.timeoutMs,
        // only an order's answer is parsed (its id, for the ledger); a judged read's is kept as it is
        parseBody: spec.key !== undefined,
        keepBody: op.judged,
        headers: spec.anonymous
          ? (spec.headers ?? {})
          : spec.key || spec.headers
            ? { ...auth, ...(spec.key ? { 'Idempotency-Key': spec.key } : {}), ...spec.headers }
            : auth,
      });
      const ok = res.status !== undefined && res.status >= 200 && res.status < 300;
      const id = ok ? (res.body as { id?: unknown } | undefined)?.id : undefined;
      this.records.push({
        vu,
        seq,
        op: op.name,
        phase,
        start,
        end: start + res.durationMs,
        status: res.status,
        errorKind: res.errorKind,
        key: spec.key,
        orderId: typeof id === 'number' ? id : undefined,
        retriedStaleSocket: res.retriedStaleSocket,
        path: spec.path,
        answer: ok && (op.judged || spec.key !== undefined) && res.text !== undefined ? this.answerOf(res.text) : undefined,
        replayed: res.headers?.['idempotent-replayed'] === 'true' || undefined,
        errorBody:
          ok || res.status === undefined
            ? undefined
            : (typeof res.body === 'string' ? res.body : JSON.stringify(res.body ?? '')).slice(0, 2000),
        errorMessage: res.errorMessage,
      });
      const pause = Math.max(this.opts.thinkTimeMs ?? 0, res.status === undefined ? NETWORK_ERROR_PAUSE_MS : 0);
      if (pause) await delay(pause);
    }
  }
}

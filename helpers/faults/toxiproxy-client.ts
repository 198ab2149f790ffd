/** Client of a Toxiproxy-compatible control API (ours, or a real Toxiproxy on an external target). */
import type { ConnectionLog, ProxyDescription, Stream, Toxic, ToxicType } from './proxy';

export class ToxiproxyClient {
  /** @param token the statement log's token of this suite's proxy (read when a call is made; a Toxiproxy ignores it) */
  constructor(
    readonly apiUrl: string,
    private readonly timeoutMs = 5_000,
    private readonly token: () => string | undefined = () => undefined,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = this.token();
    const res = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(token ? { 'X-Fault-Proxy-Token': token } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`toxiproxy ${method} ${path} answered ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  proxies(): Promise<Record<string, ProxyDescription>> {
    return this.call('GET', '/proxies');
  }
  proxy(name: string): Promise<ProxyDescription> {
    return this.call('GET', `/proxies/${encodeURIComponent(name)}`);
  }
  setEnabled(name: string, enabled: boolean): Promise<ProxyDescription> {
    return this.call('POST', `/proxies/${encodeURIComponent(name)}`, { enabled });
  }
  /** Adds a toxic; toxicity (default 1) is the probability that a connection gets it, drawn per connection. */
  addToxic(
    proxy: string,
    toxic: { name: string; type: ToxicType; stream: Stream; toxicity?: number; attributes: Record<string, number> },
  ): Promise<Toxic> {
    return this.call('POST', `/proxies/${encodeURIComponent(proxy)}/toxics`, { toxicity: 1, ...toxic });
  }
  /** Removes a toxic; a toxic that is already gone is fine (recovery is idempotent). */
  async removeToxic(proxy: string, name: string): Promise<void> {
    const toxics = (await this.proxy(proxy)).toxics;
    if (toxics.some((t) => t.name === name))
      await this.call('DELETE', `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(name)}`);
  }
  /** The proxy's version string: this suite's fault proxy says store-resilience-fault-proxy. */
  async version(): Promise<string> {
    const res = await fetch(`${this.apiUrl}/version`, { signal: AbortSignal.timeout(this.timeoutMs) });
    const text = await res.text();
    try {
      const v = JSON.parse(text) as { version?: string } | string;
      return typeof v === 'string' ? v : String(v.version ?? '');
    } catch {
      return text.trim(); // older Toxiproxy answers plain text
    }
  }
  /** Our extension: the recent connections and their statements (a Toxiproxy answers 404). */
  connections(name: string): Promise<ConnectionLog[]> {
    return this.call('GET', `/proxies/${encodeURIComponent(name)}/connections`);
  }
  clearConnections(name: string): Promise<void> {
    return this.call('DELETE', `/proxies/${encodeURIComponent(name)}/connections`);
  }
  /** Every proxy enabled, every toxic removed. */
  reset(): Promise<void> {
    return this.call('POST', '/reset');
  }
}

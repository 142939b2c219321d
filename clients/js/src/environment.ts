// What the client needs of its surroundings: the URL it was given turned
// into a ws:// one, and, in a page, the window's `online` event (a reconnect
// need not wait out its backoff once the network is back).

// ws:// and wss:// as given; http(s):// and paths (in a page) mapped to them.
export function websocketUrl(url: string): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  let parsed: URL;
  try {
    parsed = new URL(url, base);
  } catch {
    throw new TypeError(`not a URL: ${url}`);
  }
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new TypeError(`not a ws:// or wss:// URL: ${url}`);
  }
  return parsed.href;
}

type OnlineTarget = { addEventListener(type: string, listener: () => void): void; removeEventListener(type: string, listener: () => void): void };

function onlineTarget(): OnlineTarget | undefined {
  const target = globalThis as unknown as Partial<OnlineTarget> & { navigator?: unknown; document?: unknown };
  return typeof target.addEventListener === 'function' && target.document !== undefined ? (target as OnlineTarget) : undefined;
}

export function watchOnline(listener: () => void): void {
  onlineTarget()?.addEventListener('online', listener);
}

export function unwatchOnline(listener: () => void): void {
  onlineTarget()?.removeEventListener('online', listener);
}

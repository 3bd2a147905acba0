/** A host and port as a libpq connection string or a WAL receiver names them (the host may be a name). */
export interface Endpoint {
  host: string;
  port: number;
}

/** Parses a libpq connection string (key=value pairs or a postgres:// URI) into its keywords, in order. */
export function parseConninfo(text: string): Map<string, string> {
  const result = new Map<string, string>();
  const trimmed = text.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) {
    const url = new URL(trimmed.replace(/^postgres(ql)?:/i, 'http:'));
    if (url.username) result.set('user', decodeURIComponent(url.username));
    if (url.password) result.set('password', decodeURIComponent(url.password));
    if (url.hostname) result.set('host', decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1'));
    if (url.port) result.set('port', url.port);
    const dbname = decodeURIComponent(url.pathname.slice(1));
    if (dbname) result.set('dbname', dbname);
    for (const [key, value] of url.searchParams) result.set(key, value);
    return result;
  }
  let index = 0;
  const skipSpace = () => {
    while (index < text.length && /\s/.test(text.charAt(index))) index++;
  };
  for (;;) {
    skipSpace();
    if (index >= text.length) return result;
    const keyStart = index;
    while (index < text.length && !/[\s=]/.test(text.charAt(index))) index++;
    const key = text.slice(keyStart, index);
    skipSpace();
    if (text.charAt(index) !== '=') throw new Error(`missing "=" after "${key}" in connection info`);
    index++;
    skipSpace();
    let value = '';
    if (text.charAt(index) === "'") {
      index++;
      for (;;) {
        if (index >= text.length) throw new Error('unterminated quoted string in connection info');
        const char = text.charAt(index);
        if (char === "'") {
          index++;
          break;
        }
        if (char === '\\' && index + 1 < text.length) index++;
        value += text.charAt(index);
        index++;
      }
    } else {
      while (index < text.length && !/\s/.test(text.charAt(index))) {
        if (text.charAt(index) === '\\' && index + 1 < text.length) index++;
        value += text.charAt(index);
        index++;
      }
    }
    result.set(key, value);
  }
}

/** One connection-string value, always quoted: backslash and quote are escaped, so a value stays one value. */
export function quoteConninfoValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Serializes keywords into a connection string. */
export function formatConninfo(keywords: ReadonlyMap<string, string>): string {
  return [...keywords].map(([key, value]) => `${key}=${quoteConninfoValue(value)}`).join(' ');
}

/**
 * The primary_conninfo that points a standby at `target`: the standby's own settings (password, sslmode,
 * passfile, application_name used by synchronous_standby_names…) are kept; host and port are replaced.
 */
export function repointedConninfo(
  current: string,
  target: Endpoint,
  defaults: { user: string; password?: string | undefined; applicationName: string },
): string {
  let keywords: Map<string, string>;
  try {
    keywords = parseConninfo(current);
  } catch {
    keywords = new Map();
  }
  keywords.delete('hostaddr');
  keywords.set('host', target.host);
  keywords.set('port', String(target.port));
  if (!keywords.has('user')) {
    keywords.set('user', defaults.user);
    if (defaults.password !== undefined && !keywords.has('password') && !keywords.has('passfile'))
      keywords.set('password', defaults.password);
  }
  if (!keywords.has('application_name')) keywords.set('application_name', defaults.applicationName);
  return formatConninfo(keywords);
}

/** The host:port pairs a connection string names (libpq allows comma-separated lists). */
export function conninfoEndpoints(conninfo: string): Endpoint[] {
  let keywords: Map<string, string>;
  try {
    keywords = parseConninfo(conninfo);
  } catch {
    return [];
  }
  const hosts = (keywords.get('host') ?? keywords.get('hostaddr') ?? '').split(',').filter((host) => host !== '');
  const ports = (keywords.get('port') ?? '5432').split(',');
  return hosts.map((host, index) => ({ host, port: Number(ports.length === 1 ? ports[0] : ports[index]) || 5432 }));
}

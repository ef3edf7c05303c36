/**
 * The local console's log format: the functions log Powertools' structured JSON (the format on AWS, where CloudWatch
 * Logs Insights reads it); `npm start` turns each JSON line into one line a person reads at a glance. Local-only:
 * nothing here runs on AWS.
 */

/** Powertools' attributes of every item; the rest of an item is what its code logged. */
const STANDARD_KEYS = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'sampling_rate',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'xray_trace_id',
]);

type LogItem = Record<string, unknown> & { level: string; message: string; timestamp?: string };

function isLogItem(value: unknown): value is LogItem {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as LogItem).level === 'string' &&
    typeof (value as LogItem).message === 'string'
  );
}

/** `local-create-payment` → `create-payment` (the local stack prefixes the CDK function ids). */
function functionOf(item: LogItem): string {
  return typeof item.function_name === 'string' ? item.function_name.replace(/^local-/, '') : '-';
}

function timeOf(item: LogItem): string {
  const at = item.timestamp ? new Date(item.timestamp) : new Date();
  return Number.isNaN(at.getTime()) ? '--:--:--' : at.toTimeString().slice(0, 8);
}

function extrasOf(item: LogItem, shown: readonly string[]): string {
  const extras = Object.entries(item).filter(([key]) => !STANDARD_KEYS.has(key) && !shown.includes(key));
  return extras.length ? ` ${JSON.stringify(Object.fromEntries(extras))}` : '';
}

/**
 * One human line for one Powertools log item:
 * - a request: `12:00:01 POST /v1/payments → 201 · 35 ms · create-payment · <request id>`
 * - a webhook delivery: `12:00:02 webhook evt_… payment.succeeded → 204 · 12 ms · 127.0.0.1:3001 · notify (first)`
 * - anything else: `12:00:03 WARN callback: message {other keys}` (an error's stack on the lines after it).
 */
export function humanLogLine(item: LogItem): string {
  const time = timeOf(item);
  const fn = functionOf(item);
  if (item.message === 'request' && typeof item.method === 'string' && typeof item.path === 'string') {
    return `${time} ${item.method} ${item.path} → ${item.status} · ${item.latency_ms} ms · ${fn} · ${item.request_id}`;
  }
  if (item.message === 'notification' && typeof item.event_id === 'string') {
    const answer = item.http_status ?? item.error;
    const outcome = item.delivered ? '' : ' · NOT delivered';
    return `${time} webhook ${item.event_id} ${item.event_type} → ${answer} · ${item.latency_ms} ms · ${item.endpoint} · ${fn} (${item.trigger})${outcome}`;
  }
  const error = item.error as { stack?: unknown } | undefined;
  const stack = typeof error?.stack === 'string' ? `\n  ${error.stack.split('\n').join('\n  ')}` : '';
  return `${time} ${item.level} ${fn}: ${item.message}${extrasOf(item, stack ? ['error'] : [])}${stack}`;
}

type MetricsItem = {
  _aws: { Timestamp: number; CloudWatchMetrics: { Metrics: { Name: string }[] }[] };
  [name: string]: unknown;
};

function isMetricsItem(value: unknown): value is MetricsItem {
  return typeof value === 'object' && value !== null && Array.isArray((value as MetricsItem)._aws?.CloudWatchMetrics);
}

/** Powertools' metrics (CloudWatch embedded metric format): `12:00:02 metrics NotificationDelivered=1`. */
export function humanMetricsLine(item: MetricsItem): string {
  const names = item._aws.CloudWatchMetrics.flatMap((directive) => directive.Metrics.map((metric) => metric.Name));
  const time = new Date(item._aws.Timestamp).toTimeString().slice(0, 8);
  return `${time} metrics ${names.map((name) => `${name}=${JSON.stringify(item[name])}`).join(' ')}`;
}

/**
 * A chunk written to the console: each line that is a JSON log item (or metrics) becomes its human line; the rest is
 * kept.
 */
export function humanizeLogChunk(chunk: string): string {
  if (!chunk.startsWith('{')) return chunk;
  return chunk
    .split('\n')
    .map((line) => {
      if (!line.startsWith('{')) return line;
      try {
        const item: unknown = JSON.parse(line);
        if (isLogItem(item)) return humanLogLine(item);
        return isMetricsItem(item) ? humanMetricsLine(item) : line;
      } catch {
        return line;
      }
    })
    .join('\n');
}

/**
 * Renders the JSON log lines written to stdout and stderr as human lines from now on (Powertools writes each item in
 * one `write`). Returns the function that restores plain JSON.
 */
export function renderLogsForHumans(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): () => void {
  const restores = streams.map((stream) => {
    const own = Object.hasOwn(stream, 'write');
    const write = stream.write;
    stream.write = ((chunk: unknown, ...rest: unknown[]) =>
      (write as (...args: unknown[]) => boolean).call(
        stream,
        typeof chunk === 'string' ? humanizeLogChunk(chunk) : chunk,
        ...rest,
      )) as typeof stream.write;
    return () => {
      if (own) stream.write = write;
      else Reflect.deleteProperty(stream, 'write');
    };
  });
  return () => {
    for (const restore of restores) restore();
  };
}

import { resolve } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The functions' logger reads its level when first imported; the tests' default is SILENT.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});

import { httpHandler } from '#http/handler.ts';
import { logger } from '#shared/observability.ts';
import { workerHandler } from '#shared/worker-handler.ts';
import { LocalGateway } from '../../local/gateway.ts';
import { humanizeLogChunk, humanLogLine, renderLogsForHumans } from '../../local/human-logs.ts';
import { invokeLocally } from '../../local/lambda-context.ts';

/** Everything written to stdout and stderr while a test runs (Powertools writes info to one, warnings to the other). */
let written: string[] = [];
beforeEach(() => {
  written = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
});

const jsonItems = () =>
  written
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

function apiEvent(path: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `GET ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    requestContext: {
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: `req-${Math.random().toString(36).slice(2)}`,
    },
  } as unknown as APIGatewayProxyEventV2;
}

describe('local logs: one process, many functions', () => {
  it('labels each invocation with its own function and request, however they interleave', async () => {
    let releaseRequest = () => {};
    const requestMayFinish = new Promise<void>((done) => {
      releaseRequest = done;
    });
    let requestStarted = () => {};
    const requestIsInside = new Promise<void>((done) => {
      requestStarted = done;
    });
    const route = httpHandler({ auth: false }, async () => {
      requestStarted();
      await requestMayFinish;
      return { statusCode: 200, body: '{}' };
    });
    const consumer = workerHandler(async (_event: unknown) => {
      logger.info('stream batch');
    });

    // A request is in flight when a stream batch arrives, runs and ends (the local stack's everyday case).
    const request = invokeLocally('local-get-payment', route, apiEvent('/v1/payments/pay_1'));
    await requestIsInside;
    await invokeLocally('local-outbox-relay', consumer, {});
    releaseRequest();
    const response = await request;

    const items = jsonItems();
    const requestLine = items.find((item) => item.message === 'request');
    const batchLine = items.find((item) => item.message === 'stream batch');
    expect(batchLine).toMatchObject({ function_name: 'local-outbox-relay' });
    expect(requestLine).toMatchObject({
      function_name: 'local-get-payment',
      request_id: response.headers?.['x-request-id'],
      path: '/v1/payments/pay_1',
      status: 200,
    });
    expect(requestLine?.function_request_id).not.toBe(batchLine?.function_request_id);
  });

  it('prints one human line per request through the local gateway: method path → status · ms · function · id', async () => {
    const gateway = new LocalGateway(resolve(import.meta.dirname, '../..'));
    const apiBase = await gateway.listen(0);
    const restore = renderLogsForHumans();
    try {
      const response = await fetch(`${apiBase}/v1/openapi.json`);
      expect(response.status).toBe(200);
      const requestId = response.headers.get('x-request-id');
      expect(requestId).toBeTruthy();
      const lines = written.join('').split('\n');
      expect(lines).toContainEqual(
        expect.stringMatching(
          new RegExp(`^\\d\\d:\\d\\d:\\d\\d GET /v1/openapi\\.json → 200 · \\d+ ms · OpenApi · ${requestId}$`),
        ),
      );
      expect(lines.filter((line) => line.startsWith('{'))).toEqual([]);
    } finally {
      restore();
      await gateway.close();
    }
  });
});

describe('humanLogLine', () => {
  const base = {
    level: 'INFO',
    timestamp: '2026-12-01T12:00:00.000Z',
    service: 'pay-gateway',
    cold_start: false,
    function_name: 'local-notify',
    function_request_id: 'r-1',
  };

  it('renders a webhook delivery with its event, answer, latency, endpoint host, function and trigger', () => {
    const line = humanLogLine({
      ...base,
      message: 'notification',
      event_id: 'evt_1',
      event_type: 'payment.succeeded',
      merchant_id: 'mch_1',
      trigger: 'first',
      endpoint: '127.0.0.1:3001',
      http_status: 204,
      latency_ms: 12,
      delivered: true,
    });
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d webhook evt_1 payment\.succeeded → 204 · 12 ms · 127\.0\.0\.1:3001 · notify \(first\)$/,
    );
    const failed = humanLogLine({
      ...base,
      message: 'notification',
      event_id: 'evt_2',
      event_type: 'payment.succeeded',
      trigger: 'retry',
      endpoint: 'shop.example',
      http_status: null,
      error: 'ECONNREFUSED',
      latency_ms: 3,
      delivered: false,
    });
    expect(failed).toMatch(
      /webhook evt_2 payment\.succeeded → ECONNREFUSED · 3 ms · shop\.example · notify \(retry\) · NOT delivered$/,
    );
  });

  it('renders metrics (embedded metric format) by name and value, and leaves other output alone', () => {
    const emf = {
      _aws: {
        Timestamp: Date.parse(base.timestamp),
        CloudWatchMetrics: [
          {
            Namespace: 'PayGateway',
            Dimensions: [['service']],
            Metrics: [{ Name: 'NotificationDelivered', Unit: 'Count' }],
          },
        ],
      },
      service: 'pay-gateway',
      NotificationDelivered: 1,
    };
    expect(humanizeLogChunk(`${JSON.stringify(emf)}\n`)).toMatch(/^\d\d:\d\d:\d\d metrics NotificationDelivered=1\n$/);
    expect(humanizeLogChunk('{"not":"a log item"}\n')).toBe('{"not":"a log item"}\n');
    expect(humanizeLogChunk('← webhook evt_1\n')).toBe('← webhook evt_1\n');
  });

  it('renders any other item as level, function and message with its own keys (an error with its stack)', () => {
    expect(humanLogLine({ ...base, level: 'WARN', message: 'journal failed', payment_id: 'pay_1' })).toMatch(
      /^\d\d:\d\d:\d\d WARN notify: journal failed \{"payment_id":"pay_1"\}$/,
    );
    const withError = humanLogLine({
      ...base,
      level: 'ERROR',
      message: 'unhandled error',
      error: { name: 'Error', message: 'boom', stack: 'Error: boom\n    at here' },
    });
    expect(withError).toMatch(/ERROR notify: unhandled error\n {2}Error: boom\n {6}at here$/);
  });
});

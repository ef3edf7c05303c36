import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { FUNCTIONS, type FunctionSpec, matchRoute } from '#routes';
import { invokeLocally } from './lambda-context.ts';

/** API Gateway's own payload limit; the handlers enforce the contract's 64 KiB below it. */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;

/** An HTTP function's handler, as `functions/*.ts` export it. */
export type LambdaHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * A local HTTP API: turns each request into an API Gateway v2 (payload 2.0) event, invokes the SAME handler module
 * the CDK stack deploys for that route, and writes its result back — like API Gateway + Lambda, in one process.
 * Handler modules are imported on first use from `projectRoot`, unless a bundled host (which has no TypeScript
 * loader) hands them in as `bundled`, by entry (`functions/….ts`).
 */
export class LocalGateway {
  private readonly handlers = new Map<string, Promise<LambdaHandler>>();
  private server?: Server;

  constructor(
    private readonly projectRoot: string,
    private readonly bundled: Readonly<Record<string, LambdaHandler>> = {},
  ) {}

  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error) => {
        console.error('local gateway failure', error);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'Internal Server Error' }));
      });
    });
    // Idle keep-alive sockets are closed by the client (fetch drops one a few seconds idle) long before the server
    // would: a server closing first races a busy client reusing the socket, which then reads ECONNRESET.
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((done) => this.server?.listen(port, host, done));
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('gateway has no address');
    return `http://${host}:${address.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (body === 'too-large') {
      res.writeHead(413, { 'content-type': 'application/json' }).end('{"message":"Request Entity Too Large"}');
      return;
    }
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const rawPath = queryAt >= 0 ? url.slice(0, queryAt) : url;
    const rawQueryString = queryAt >= 0 ? url.slice(queryAt + 1) : '';
    const method = (req.method ?? 'GET').toUpperCase();

    const match = matchRoute(method, rawPath);
    const spec =
      match.kind === 'route'
        ? match.route.spec
        : (FUNCTIONS.find((f) => f.routes.includes('$default')) as FunctionSpec);
    const routeKey = match.kind === 'route' ? `${method} ${match.route.pattern.source}` : '$default';
    const event = buildEvent({
      method,
      rawPath,
      rawQueryString,
      headers: req.headers,
      body,
      pathParameters: match.kind === 'route' ? match.pathParameters : undefined,
      routeKey,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
    });
    const handler = await this.handlerFor(spec);
    const result = await invokeLocally(`local-${spec.id}`, handler, event);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
    const payload = result.body
      ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8')
      : Buffer.alloc(0);
    res.writeHead(result.statusCode ?? 200, { ...headers, 'content-length': String(payload.length) });
    res.end(payload);
  }

  private handlerFor(spec: FunctionSpec): Promise<LambdaHandler> {
    let loaded = this.handlers.get(spec.entry);
    if (!loaded) {
      const bundled = this.bundled[spec.entry];
      const url = pathToFileURL(resolve(this.projectRoot, spec.entry)).href;
      loaded = bundled
        ? Promise.resolve(bundled)
        : import(url).then((module: { handler: LambdaHandler }) => module.handler);
      this.handlers.set(spec.entry, loaded);
    }
    return loaded;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > GATEWAY_MAX_BODY) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const TEXT_TYPES = /^(text\/|application\/(json|x-www-form-urlencoded|xml))/i;

function buildEvent(input: {
  method: string;
  rawPath: string;
  rawQueryString: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  pathParameters?: Record<string, string>;
  routeKey: string;
  sourceIp: string;
}): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query = new URLSearchParams(input.rawQueryString);
  const queryStringParameters: Record<string, string> = {};
  for (const name of new Set(query.keys())) queryStringParameters[name] = query.getAll(name).join(',');
  const now = new Date();
  // Like API Gateway: text bodies arrive as strings, anything else — including a "text" body that is not valid UTF-8,
  // which a string could not carry byte for byte — base64-encoded.
  const isText = TEXT_TYPES.test(headers['content-type'] ?? 'application/json') && isUtf8(input.body);
  return {
    version: '2.0',
    routeKey: input.routeKey,
    rawPath: input.rawPath,
    rawQueryString: input.rawQueryString,
    headers,
    ...(Object.keys(queryStringParameters).length ? { queryStringParameters } : {}),
    ...(input.pathParameters ? { pathParameters: input.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method: input.method,
        path: input.rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: input.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: input.routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(input.body.length
      ? { body: input.body.toString(isText ? 'utf8' : 'base64'), isBase64Encoded: !isText }
      : { isBase64Encoded: false }),
  } as APIGatewayProxyEventV2;
}

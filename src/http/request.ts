import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** What a handler needs of an HTTP API (payload v2) event, normalised once. */
export interface HttpRequest {
  method: string;
  /** Path and query exactly as sent; merchant signatures cover it. */
  pathAndQuery: string;
  headers: Record<string, string | undefined>;
  /** The raw body bytes (signatures cover these) and their UTF-8 text. */
  rawBody: Buffer;
  body: string;
  pathParameters: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  requestId: string;
  /** The caller's address as API Gateway saw the connection (`requestContext.http.sourceIp`), never a header. */
  sourceIp?: string;
}

/** Normalises an API Gateway v2 event (header names lower-cased, base64 bodies decoded). */
export function toHttpRequest(event: APIGatewayProxyEventV2): HttpRequest {
  const rawBody = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  return {
    method: event.requestContext.http.method.toUpperCase(),
    pathAndQuery: event.rawQueryString ? `${event.rawPath}?${event.rawQueryString}` : event.rawPath,
    headers,
    rawBody,
    body: rawBody.toString('utf8'),
    pathParameters: event.pathParameters ?? {},
    query: event.queryStringParameters ?? {},
    requestId: event.requestContext.requestId,
    sourceIp: event.requestContext.http.sourceIp,
  };
}

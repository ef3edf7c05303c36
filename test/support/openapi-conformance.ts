import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { buildOpenApiDocument } from '#http/openapi.ts';

type Json = Record<string, unknown>;
type Operation = { responses: Record<string, Json> };

const document = buildOpenApiDocument() as { paths: Record<string, Record<string, Operation>>; components: Json };
const DOCUMENT_ID = 'openapi.json';
const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormatsModule as unknown as (ajv: Ajv2020) => void)(ajv);
ajv.addSchema(document, DOCUMENT_ID);

/** Each documented path as a matcher (`{param}` → one segment). */
const PATHS = Object.keys(document.paths).map((path) => ({
  path,
  pattern: new RegExp(`^${path.replace(/[.]/g, '\\.').replace(/\{[a-z_]+\}/g, '[^/]+')}$`),
}));

const pointer = (...parts: string[]) => parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/**
 * Fails (throws) unless an answer of the gateway is one the OpenAPI document describes: a documented route, a status
 * listed for it, and a JSON body valid against that response's schema. A path the document does not know may only be
 * answered `404 NOT_FOUND`, a documented path with an undocumented method only `405 METHOD_NOT_ALLOWED`, each with the
 * error envelope.
 */
export function assertConforms(
  method: string,
  pathAndQuery: string,
  status: number,
  contentType: string,
  body: unknown,
) {
  const path = pathAndQuery.split('?')[0] ?? '';
  const where = `${method} ${pathAndQuery} → ${status}`;
  const known = PATHS.find((candidate) => candidate.pattern.test(path));
  const operation = known ? document.paths[known.path]?.[method.toLowerCase()] : undefined;
  if (!operation) {
    const expected = known ? 405 : 404;
    if (status !== expected) throw new Error(`OpenAPI: ${where}: an undocumented route must answer ${expected}`);
    return validate(`#/components/schemas/Error`, body, where);
  }
  if (!(String(status) in operation.responses)) throw new Error(`OpenAPI: ${where}: status not documented`);
  if (!contentType.startsWith('application/json')) return;
  const response = operation.responses[String(status)] as Json;
  const base = response.$ref
    ? String(response.$ref)
    : `#/${pointer('paths', known?.path ?? '', method.toLowerCase(), 'responses', String(status))}`;
  const content = (response.$ref ? undefined : response.content) as Json | undefined;
  if (!response.$ref && !content?.['application/json']) throw new Error(`OpenAPI: ${where}: JSON not documented`);
  validate(`${base}/content/application~1json/schema`, body, where);
}

function validate(ref: string, body: unknown, where: string) {
  const check = ajv.getSchema(`${DOCUMENT_ID}${ref}`);
  if (!check) throw new Error(`OpenAPI: no schema at ${ref}`);
  if (!check(body)) throw new Error(`OpenAPI: ${where}: ${ajv.errorsText(check.errors)}\n${JSON.stringify(body)}`);
}

/**
 * Checks every answer the gateway at `apiBase` gives in this process against the document ({@link assertConforms}),
 * whoever sent the request (the merchant client, a raw `fetch` of a test, the sandbox cashier's own callback): the
 * request fails with the violation, and `stop()` (restoring `fetch`) throws if any answer did not conform.
 */
export function watchGatewayResponses(apiBase: string): { stop: () => void } {
  const original = globalThis.fetch;
  const violations: string[] = [];
  globalThis.fetch = async (input, init) => {
    const response = await original(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!`${url.origin}/`.startsWith(`${new URL(apiBase).origin}/`)) return response;
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const contentType = response.headers.get('content-type') ?? '';
    const text = await response.clone().text();
    try {
      const body = contentType.startsWith('application/json') && text ? JSON.parse(text) : text;
      assertConforms(method, `${url.pathname}${url.search}`, response.status, contentType, body);
    } catch (error) {
      violations.push(String(error));
      throw error;
    }
    return response;
  };
  return {
    stop() {
      globalThis.fetch = original;
      if (violations.length) throw new Error(`answers that break the OpenAPI document:\n${violations.join('\n')}`);
    },
  };
}

import { httpHandler } from '#http/handler.ts';
import { buildOpenApiDocument } from '#http/openapi.ts';
import { json } from '#http/respond.ts';

const document = buildOpenApiDocument();

/** `GET /v1/openapi.json` (no auth) — the OpenAPI 3.1 description of this API. */
export const handler = httpHandler({ auth: false }, async () => json(200, document));

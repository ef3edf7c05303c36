import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '#http/error-codes.ts';
import { buildOpenApiDocument } from '#http/openapi.ts';
import { FUNCTIONS } from '#routes';

const root = resolve(import.meta.dirname, '../..');
const document = buildOpenApiDocument();

/** Every `.ts` file under a directory. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('matches the committed docs/openapi.json (run `npm run openapi` after changing the API)', () => {
    const committed = JSON.parse(readFileSync(join(root, 'docs/openapi.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it('describes every route of src/routes.ts', () => {
    const described = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const routes = FUNCTIONS.flatMap((spec) => spec.routes).filter((route) => route !== '$default');
    expect(described.sort()).toEqual([...routes].sort());
  });

  it('lists every error code the source can answer with', () => {
    const thrown = new Set<string>();
    const pattern = /(?:Error\(|super\(|codedIssue\(ctx, )\s*'([A-Z][A-Z0-9_]+)'/g;
    for (const file of [...sources(join(root, 'src')), ...sources(join(root, 'functions'))]) {
      for (const match of readFileSync(file, 'utf8').matchAll(pattern)) thrown.add(String(match[1]));
    }
    expect(thrown.size).toBeGreaterThan(20);
    expect([...thrown].filter((code) => !(code in ERROR_CODES))).toEqual([]);
  });
});

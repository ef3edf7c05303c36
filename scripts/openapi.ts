import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildOpenApiDocument } from '#http/openapi.ts';

/** `npm run openapi` — writes docs/openapi.json from the code (commit it; a test fails when it drifts). */
const target = resolve(import.meta.dirname, '../docs/openapi.json');
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
console.log(`wrote ${target}`);

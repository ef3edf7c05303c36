/**
 * The one way the gateway writes schemas: zod 4's tree-shakable `zod/mini` API (a function bundle keeps only the
 * schema types and checks it uses; the method-chaining `zod` API carries all of them), with zod's English messages —
 * the messages of the contract's `VALIDATION_FAILED` errors and their `details.issues`. Import it as
 * `import * as z from '#shared/zod.ts'`, never `zod` itself (its messages would be zod/mini's bare "Invalid input").
 */
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export * from 'zod/mini';

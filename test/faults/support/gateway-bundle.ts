import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { FUNCTIONS } from '#routes';

/** The project root the gateway process serves from (its `FAULT_PROJECT_ROOT`). */
export const GATEWAY_PROJECT_ROOT = resolve(import.meta.dirname, '../../..');

/**
 * Bundles the fault suite's gateway process into one ES module (esbuild, as the Lambda functions are bundled) with
 * every HTTP function's handler in it, so each restart loads one file with plain Node instead of compiling hundreds
 * of TypeScript modules again: a restart is what the suite does most, on machines shared with other work.
 * Returns the bundle's path (in a fresh temporary directory).
 */
export async function buildGatewayBundle(): Promise<string> {
  const outfile = join(await mkdtemp(join(tmpdir(), 'fault-gateway-')), 'gateway.mjs');
  const handlers = FUNCTIONS.map((spec, index) => ({ name: `h${index}`, spec }));
  const contents = [
    ...handlers.map(
      ({ name, spec }) =>
        `import { handler as ${name} } from ${JSON.stringify(resolve(GATEWAY_PROJECT_ROOT, spec.entry))};`,
    ),
    `import { runGatewayProcess } from ${JSON.stringify(resolve(import.meta.dirname, 'gateway-process.ts'))};`,
    `await runGatewayProcess({ ${handlers.map(({ name, spec }) => `${JSON.stringify(spec.entry)}: ${name}`).join(', ')} });`,
  ].join('\n');
  await build({
    stdin: { contents, resolveDir: GATEWAY_PROJECT_ROOT, loader: 'ts', sourcefile: 'fault-gateway-entry.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    // CommonJS dependencies inside an ES module bundle still call `require` for Node's built-ins.
    // (Under a name of its own: a bundled module may import `createRequire` itself.)
    banner: {
      js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);",
    },
    // The local Step Functions read the ASL files relative to their own folder (`local/`).
    define: { 'import.meta.dirname': JSON.stringify(join(GATEWAY_PROJECT_ROOT, 'local')) },
    logLevel: 'error',
  });
  return outfile;
}

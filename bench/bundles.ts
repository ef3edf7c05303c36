import { relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { FUNCTIONS } from '#routes';

/**
 * The banner `lib/gateway-function.ts` gives every bundle: CommonJS dependencies bundled into ESM call `require`,
 * so it is defined from `import.meta.url` (aliased import, as in the CDK stack, to avoid clashing identifiers).
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __gatewayCreateRequire } from 'node:module';" +
  'const require = __gatewayCreateRequire(import.meta.url);';

/** The deployed size of one function's bundle. */
export interface BundleSize {
  id: string;
  entry: string;
  bytes: number;
  gzipBytes: number;
}

/**
 * Bundles every function of `FUNCTIONS` with esbuild exactly as the CDK stack's `NodejsFunction` does — bundled,
 * minified, platform node, target node22, ESM with the `require` banner, main fields module/main, linked source map without
 * sources, no externals (the AWS SDK is bundled) — in memory (`write: false`), and measures the `index.mjs` it would
 * deploy (the `.map` beside it is not counted).
 */
export function measureBundles(projectRoot: string): Promise<BundleSize[]> {
  return Promise.all(FUNCTIONS.map((spec) => measureBundle(projectRoot, spec.id, spec.entry)));
}

async function measureBundle(projectRoot: string, id: string, entry: string): Promise<BundleSize> {
  const outfile = resolve(projectRoot, 'cdk.out', 'bench-bundles', id, 'index.mjs');
  const result = await build({
    absWorkingDir: projectRoot,
    entryPoints: [resolve(projectRoot, entry)],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    sourcemap: true,
    sourcesContent: false,
    external: [],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const bytes = result.metafile.outputs[relative(projectRoot, outfile)]?.bytes;
  const code = result.outputFiles.find((file) => file.path === outfile)?.contents;
  if (bytes === undefined || !code) throw new Error(`esbuild produced no ${outfile} for ${id}`);
  return { id, entry, bytes, gzipBytes: gzipSync(code).length };
}

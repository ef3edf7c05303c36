/**
 * Section 5: every function's deployed bundle (esbuild with the CDK stack's settings, `lib/gateway-function.ts`) next to
 * a minimal DynamoDB-only handler built with the same settings in the same run: bytes, and the cold import time of each
 * (a fresh Node process per import, the median of BENCH_IMPORT_RUNS rounds; the rounds interleave every bundle, so a
 * busy machine slows them alike). Also the two decisions it informs: the AWS SDK bundled vs taken from `node_modules`
 * (the runtime's copy on Lambda), and `--enable-source-maps` with the source map vs none.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BuildOptions } from 'esbuild';
import { childProcessEnv } from '../local/lambda-context.ts';

/** The DynamoDB-only baseline: one document-client read, nothing else. */
const MINIMAL_HANDLER = `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
export const handler = async (event) => {
  const { Item } = await db.send(new GetCommand({ TableName: process.env.TABLE_NAME, Key: { PK: event.id, SK: 'X' } }));
  return { statusCode: 200, body: JSON.stringify(Item ?? null) };
};`;

const MINIMAL_ID = '(minimal DynamoDB handler)';

/** One bundle's figures (BENCH_RESULT `bundles.functions[]`). */
export interface BundleFigure {
  id: string;
  /** An HTTP API function (the ≤ 1.5× goal is theirs); workers are listed too. */
  api: boolean;
  bytes: number;
  gzip_bytes: number;
  import_ms: number;
  /** This bundle over the minimal handler's, bytes and import time. */
  bytes_ratio: number;
  import_ratio: number;
}

/** What section 5 measured (BENCH_RESULT `bundles`). */
export interface BundleFigures {
  runs: number;
  minimal: BundleFigure;
  functions: BundleFigure[];
  /** The largest API-function ratios, the goal being ≤ 1.5 for both. */
  max_bytes_ratio: number;
  max_import_ratio: number;
  /** The same function (and the minimal handler) with the AWS SDK left to `node_modules` instead of bundled. */
  sdk_external: { id: string; bytes: number; import_ms: number; minimal_bytes: number; minimal_import_ms: number };
  /** The same function with its source map and `--enable-source-maps`, as the stack used to deploy. */
  source_map: { id: string; map_bytes: number; import_ms: number };
}

const banner =
  "import { createRequire as __gatewayCreateRequire } from 'node:module';" +
  'const require = __gatewayCreateRequire(import.meta.url);';

/** The CDK stack's esbuild settings (`GatewayFunction`), writing to `outfile`. */
function settings(projectRoot: string, outfile: string): BuildOptions {
  return {
    ...{ absWorkingDir: projectRoot, outfile, banner: { js: banner }, bundle: true, minify: true, platform: 'node' },
    ...{ target: 'node22', format: 'esm', mainFields: ['module', 'main'], logLevel: 'silent', metafile: true },
  };
}

/** Builds one bundle; returns its output path and sizes. */
async function buildOne(
  projectRoot: string,
  dir: string,
  id: string,
  source: { entry: string } | { code: string },
  extra: BuildOptions = {},
): Promise<{ outfile: string; bytes: number; gzip_bytes: number; map_bytes: number }> {
  const { build } = await import('esbuild');
  const outfile = join(dir, id.replace(/[^a-z0-9-]/gi, '_'), 'index.mjs');
  const input =
    'entry' in source
      ? { entryPoints: [resolve(projectRoot, source.entry)] }
      : { stdin: { contents: source.code, resolveDir: projectRoot, loader: 'js' as const } };
  const result = await build({ ...settings(projectRoot, outfile), ...input, ...extra, write: false });
  let bytes = 0;
  let gzip_bytes = 0;
  let map_bytes = 0;
  const { writeFileSync } = await import('node:fs');
  mkdirSync(join(outfile, '..'), { recursive: true });
  for (const file of result.outputFiles ?? []) {
    writeFileSync(file.path, file.contents);
    if (file.path === outfile) {
      bytes = file.contents.length;
      gzip_bytes = gzipSync(file.contents).length;
    } else if (file.path.endsWith('.map')) map_bytes = file.contents.length;
  }
  if (!bytes) throw new Error(`esbuild produced no ${outfile} for ${id}`);
  return { outfile, bytes, gzip_bytes, map_bytes };
}

/** Milliseconds a fresh Node process takes to import `file` (its own boot excluded). */
function importMs(file: string, nodeArgs: string[] = []): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`;
  const env = {
    ...childProcessEnv(),
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NODE_OPTIONS: '',
  };
  const out = execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { env });
  return Number(out.toString());
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Section 5: builds every function and the minimal handler, then times their cold imports (see the module comment). */
export async function measureBundles(projectRoot: string, runs: number): Promise<BundleFigures> {
  const { FUNCTIONS, WORKERS } = await import('#routes');
  // Under the project root so a bundle that leaves the SDK external resolves it from node_modules.
  const dir = resolve(projectRoot, 'cdk.out', 'bench-bundles');
  rmSync(dir, { recursive: true, force: true });
  const minimal = await buildOne(projectRoot, dir, MINIMAL_ID, { code: MINIMAL_HANDLER });
  const built = await Promise.all(
    [...FUNCTIONS, ...WORKERS].map(async ({ id, entry }) => ({
      id,
      ...(await buildOne(projectRoot, dir, id, { entry })),
    })),
  );
  const probe = FUNCTIONS.find((f) => f.id === 'CreatePayment') ?? FUNCTIONS[0];
  if (!probe) throw new Error('no functions to bundle');
  const external = { external: ['@aws-sdk/*', '@smithy/*'] };
  const probeExternal = await buildOne(projectRoot, dir, `${probe.id}-sdk-external`, probe, external);
  const minimalExternal = await buildOne(projectRoot, dir, 'minimal-sdk-external', { code: MINIMAL_HANDLER }, external);
  const probeMapped = await buildOne(projectRoot, dir, `${probe.id}-source-map`, probe, {
    sourcemap: true,
    sourcesContent: false,
  });
  const timed = [
    { key: MINIMAL_ID, file: minimal.outfile, args: [] as string[] },
    ...built.map((b) => ({ key: b.id, file: b.outfile, args: [] as string[] })),
    { key: 'probe-external', file: probeExternal.outfile, args: [] },
    { key: 'minimal-external', file: minimalExternal.outfile, args: [] },
    { key: 'probe-mapped', file: probeMapped.outfile, args: ['--enable-source-maps'] },
  ];
  const samples = new Map<string, number[]>(timed.map((t) => [t.key, []]));
  for (let round = 0; round < runs; round++) {
    for (const t of timed) samples.get(t.key)?.push(importMs(t.file, t.args));
  }
  const ms = (key: string) => median(samples.get(key) ?? []);
  const base = { bytes: minimal.bytes, import_ms: ms(MINIMAL_ID) };
  const figure = (id: string, bytes: number, gzip_bytes: number, api = false): BundleFigure => ({
    id,
    api,
    bytes,
    gzip_bytes,
    import_ms: ms(id),
    bytes_ratio: bytes / base.bytes,
    import_ratio: ms(id) / base.import_ms,
  });
  const apiIds = new Set(FUNCTIONS.filter((f) => f.routes.length > 0).map((f) => f.id));
  const functions = built.map((b) => figure(b.id, b.bytes, b.gzip_bytes, apiIds.has(b.id)));
  const api = functions.filter((f) => f.api);
  rmSync(dir, { recursive: true, force: true });
  return {
    runs,
    minimal: figure(MINIMAL_ID, minimal.bytes, minimal.gzip_bytes),
    functions,
    max_bytes_ratio: Math.max(...api.map((f) => f.bytes_ratio)),
    max_import_ratio: Math.max(...api.map((f) => f.import_ratio)),
    sdk_external: {
      id: probe.id,
      bytes: probeExternal.bytes,
      import_ms: ms('probe-external'),
      minimal_bytes: minimalExternal.bytes,
      minimal_import_ms: ms('minimal-external'),
    },
    source_map: { id: probe.id, map_bytes: probeMapped.map_bytes, import_ms: ms('probe-mapped') },
  };
}

/**
 * The doubles are TypeScript, type-checked and linted with the suite; they run as one bundled ES
 * module per tool in .build/ (esbuild, 30 ms for the four), so that each call costs a plain `node`
 * start (0.15 s) and not a TypeScript loader's (0.5 s): a test:external run calls them hundreds of
 * times. test:external's global setup builds them; `npx tsx e2e/external/doubles/build.ts` by hand.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const DOUBLE_TOOLS = ['systemctl', 'journalctl', 'docker', 'kubectl'] as const;
/** Where the bundles go: bin/<tool> runs .build/<tool>.mjs. */
export const DOUBLES_BUILD_DIR = path.join(HERE, '.build');

/** Bundles every double into .build/<tool>.mjs; returns the files written. */
export async function buildDoubles(): Promise<string[]> {
  // a fresh folder, written whole and then renamed: a run of a double never sees half a bundle
  const tmp = `${DOUBLES_BUILD_DIR}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  await build({
    entryPoints: DOUBLE_TOOLS.map((t) => path.join(HERE, `${t}.ts`)),
    outdir: tmp,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
    banner: { js: '// built from e2e/external/doubles/*.ts by build.ts: edit those, not this' },
  });
  fs.rmSync(DOUBLES_BUILD_DIR, { recursive: true, force: true });
  fs.renameSync(tmp, DOUBLES_BUILD_DIR);
  return DOUBLE_TOOLS.map((t) => path.join(DOUBLES_BUILD_DIR, `${t}.mjs`));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = await buildDoubles();
  process.stdout.write(`${files.join('\n')}\n`);
}

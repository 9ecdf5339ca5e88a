import type { FileChange } from '../model/file-change.js';
import { compareStrings } from '../util/compare.js';
import { renderTemplates } from './render-templates.js';

/**
 * The runtime package every generated service depends on (`packages/runtime/`, templates/runtime/): it serves
 * the service's Express app with request ids, logs, metrics, health and readiness, graceful shutdown, internal
 * calls between services and a Redis cache. Its sources are static; only its package name varies.
 */

export interface RuntimePackageContext {
  /** npm name of the package, e.g. `@shop-ts/runtime`. */
  packageName: string;
  /** The plan's project name. */
  project: string;
}

/** Where the package goes, relative to the scaffold root. */
export const RUNTIME_PACKAGE_DIR = 'packages/runtime';

/**
 * Exact versions the runtime's package.json pins. decompose's own devDependencies carry the same versions, so
 * its tests run the runtime against exactly these.
 */
export const RUNTIME_DEPENDENCIES: Record<string, string> = {
  ioredis: '5.9.3',
  pino: '10.4.0',
  'prom-client': '15.1.3',
};

/** The service brings express (4.x); the runtime uses the service's copy. */
export const RUNTIME_PEER_DEPENDENCIES: Record<string, string> = {
  express: '^4.21.2',
};

export const RUNTIME_DEV_DEPENDENCIES: Record<string, string> = {
  '@types/express': '4.17.25',
  '@types/node': '20.19.43',
  typescript: '5.9.3',
};

const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

function entries(record: Record<string, string>): { name: string; version: string }[] {
  return Object.entries(record)
    .map(([name, version]) => ({ name, version }))
    .sort((a, b) => compareStrings(a.name, b.name));
}

/** Renders `packages/runtime/` (package.json, tsconfig.json, README.md, src/). */
export function renderRuntimePackage(ctx: RuntimePackageContext): FileChange[] {
  if (!PACKAGE_NAME.test(ctx.packageName) || ctx.packageName.length > 214) {
    throw new Error(`${JSON.stringify(ctx.packageName)} is not an npm package name`);
  }
  return renderTemplates({
    template: 'runtime',
    into: RUNTIME_PACKAGE_DIR,
    context: {
      packageName: ctx.packageName,
      project: ctx.project,
      description: `Runtime of the ${ctx.project} services: serving, logs, metrics, health, shutdown, internal calls, cache`,
      dependencies: entries(RUNTIME_DEPENDENCIES),
      peerDependencies: entries(RUNTIME_PEER_DEPENDENCIES),
      devDependencies: entries(RUNTIME_DEV_DEPENDENCIES),
    },
  });
}

/** Folder names that describe a layer, not a domain: they never name a service. */
export const LAYER_FOLDERS = new Set([
  'src', 'lib', 'app', 'server', 'api', 'routes', 'routers', 'router', 'controllers', 'controller', 'models', 'model',
  'services', 'service', 'middleware', 'middlewares', 'utils', 'util', 'helpers', 'helper', 'handlers', 'repositories',
  'repository', 'db', 'data', 'dal', 'common', 'core', 'modules', 'features', 'domain', 'domains', 'components', 'config',
  'shared', 'libs', 'infra', 'infrastructure', 'support', 'schemas', 'entities', 'types', 'validators', 'jobs', 'workers',
]);

/**
 * The domain a module appears to belong to from its path alone: its first folder that is not a layer name
 * (`src/catalog/product.service.ts` → catalog) or, in a layer-by-layer layout, the first word of its file
 * name in singular (`controllers/posts.js` and `models/post.js` → post).
 */
export function domainOf(module: string): string {
  const parts = module.split('/');
  const folder = parts.slice(0, -1).find((f) => !LAYER_FOLDERS.has(f.toLowerCase()));
  if (folder) return folder.toLowerCase();
  const stem = (parts.at(-1) ?? '').replace(/\.[^.]+$/, '').split(/[-_.]/)[0]!.toLowerCase();
  return stem.length > 3 && stem.endsWith('s') && !stem.endsWith('ss') ? stem.slice(0, -1) : stem;
}

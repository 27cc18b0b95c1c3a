import { load as loadYaml } from 'js-yaml';
import { z } from 'zod';
import { RouteValidationError, issuePath, zodIssues, type ValidationIssue } from '../errors';
import { RouteSpecSchema, type Route } from '../route';

// What a product may set for all of its routes; route-level keys win.
const ProductSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits and . _ - (at most 128)'),
  upstream: z.string(),
  sandbox_upstream: z.string().nullable().optional(),
  hosts: z.array(z.string()).optional(),
  defaults: z.record(z.string(), z.unknown()).optional(),
  routes: z.array(z.record(z.string(), z.unknown())).min(1, 'a product needs at least one route'),
});

const RouteFileSchema = z.strictObject({
  products: z.array(z.unknown()).min(1, 'at least one product'),
});

// Set by the product itself, never by its defaults or a route.
const PRODUCT_OWNED = ['product'] as const;

/**
 * Reads a route file (YAML or JSON text, or a parsed document): `{ products: [{ name, upstream,
 * sandbox_upstream?, hosts?, defaults?, routes: [...] }] }`. A route's field comes from the route,
 * else the product's `defaults`, else the product (`upstream`, `sandbox_upstream`, `hosts`), else
 * the schema default. Every problem is reported with its place in the file.
 */
export function parseRouteFile(input: string | unknown): Route[] {
  let doc: unknown = input;
  if (typeof input === 'string') {
    try {
      // js-yaml's default is the YAML 1.2 core schema: JSON text parses the same, no dates or other surprises.
      doc = loadYaml(input);
    } catch (err) {
      throw new RouteValidationError([{ path: '', message: `not YAML or JSON: ${(err as Error).message.split('\n')[0]}` }]);
    }
  }
  const file = RouteFileSchema.safeParse(doc);
  if (!file.success) throw new RouteValidationError(zodIssues('', file.error));

  const issues: ValidationIssue[] = [];
  const routes: Route[] = [];
  const seen = new Map<string, string>();
  file.data.products.forEach((raw, p) => {
    const base = `products[${p}]`;
    const product = ProductSchema.safeParse(raw);
    if (!product.success) {
      issues.push(...zodIssues(base, product.error));
      return;
    }
    const { name, upstream, sandbox_upstream, hosts, defaults = {}, routes: specs } = product.data;
    for (const key of PRODUCT_OWNED) {
      if (key in defaults) issues.push({ path: `${base}.defaults.${key}`, message: 'set by the product name' });
    }
    specs.forEach((spec, r) => {
      const routeBase = `${base}.routes[${r}]`;
      for (const key of PRODUCT_OWNED) {
        if (key in spec) issues.push({ path: `${routeBase}.${key}`, message: 'set by the product name' });
      }
      const merged = {
        upstream,
        ...(sandbox_upstream === undefined ? {} : { sandbox_upstream }),
        ...(hosts === undefined ? {} : { hosts }),
        ...defaults,
        ...spec,
        product: name,
      };
      const parsed = RouteSpecSchema.safeParse(merged);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          // Point at the line that holds the bad value: the route, its product's defaults, or the product.
          const [field] = issue.path;
          const where = field === undefined || String(field) in spec ? routeBase : String(field) in defaults ? `${base}.defaults` : base;
          issues.push({ path: issuePath(where, issue.path), message: issue.message });
        }
        return;
      }
      const previous = seen.get(parsed.data.id);
      if (previous) issues.push({ path: `${routeBase}.id`, message: `${parsed.data.id} is also the id of ${previous}` });
      seen.set(parsed.data.id, routeBase);
      routes.push(parsed.data);
    });
  });
  if (issues.length) {
    // A bad product field or default shows up once per route; report it once.
    const unique = new Map(issues.map((i) => [`${i.path}\0${i.message}`, i]));
    throw new RouteValidationError([...unique.values()]);
  }
  return routes;
}

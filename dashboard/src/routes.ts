// The dashboard's paths. The server answers index.html for exactly these (src/http/dashboard.ts
// reads DASHBOARD_ROUTES), so a copied link opens the same view and any other path stays a 404.
export const DASHBOARD_ROUTES = [
  { pattern: /^\/$/, name: 'experiments' },
  { pattern: /^\/experiments\/?$/, name: 'experiments' },
  { pattern: /^\/experiments\/([^/]+)\/?$/, name: 'experiment' },
  { pattern: /^\/jobs\/?$/, name: 'jobs' },
  { pattern: /^\/jobs\/([^/]+)\/?$/, name: 'job' },
  { pattern: /^\/workers\/?$/, name: 'workers' },
  { pattern: /^\/audit\/?$/, name: 'audit' },
  { pattern: /^\/mappings\/?$/, name: 'mappings' },
] as const;

export type RouteName = (typeof DASHBOARD_ROUTES)[number]['name'];

export function matchRoute(pathname: string): { name: RouteName; id: string | null } | null {
  for (const route of DASHBOARD_ROUTES) {
    const match = route.pattern.exec(pathname);
    if (match) return { name: route.name, id: match[1] ? decodeURIComponent(match[1]) : null };
  }
  return null;
}

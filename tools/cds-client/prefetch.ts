/**
 * Prefetch the way the public CDS Hooks sandbox does it (../shared/reference/cds-hooks/sandbox-interop.md):
 * only `{{context.<root field>}}`, the four user tokens and `{{today()}}`-style date tokens are
 * resolved; a template left with an unresolved token is skipped (the service must fetch that data
 * itself); searches go to the FHIR server as form-encoded `POST {type}/_search` (bare patient ids as
 * the template has them), falling back to GET; a failed key is omitted.
 */
export interface FhirCall {
  key: string;
  method: 'GET' | 'POST';
  url: string;
  contentType?: string;
  body?: string;
  status: number;
}

const USER_TOKENS: Record<string, string> = {
  userPractitionerId: 'Practitioner',
  userPractitionerRoleId: 'PractitionerRole',
  userPatientId: 'Patient',
  userRelatedPersonId: 'RelatedPerson',
};

function tokenValue(token: string, context: Record<string, unknown>, now: Date): string | undefined {
  if (token.startsWith('context.')) {
    const name = token.slice('context.'.length);
    if (name.includes('.')) return undefined;
    const value = context[name];
    return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
  }
  const expectedType = USER_TOKENS[token];
  if (expectedType) {
    const [type, id] = String(context.userId ?? '').split('/');
    return type === expectedType && id ? id : undefined;
  }
  const today = /^today\(\)\s*(?:([+-])\s*(\d+)\s*days?)?$/.exec(token);
  if (today) {
    const offset = today[1] ? (today[1] === '-' ? -1 : 1) * Number(today[2]) : 0;
    return new Date(now.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
  }
  return undefined;
}

/** The query with its tokens filled, or undefined when one cannot be resolved (the key is skipped). */
export function resolveTemplate(template: string, context: Record<string, unknown>, now = new Date()): string | undefined {
  let unresolved = false;
  const query = template.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_m, token: string) => {
    const value = tokenValue(token, context, now);
    if (value === undefined) unresolved = true;
    return encodeURIComponent(value ?? '');
  });
  return unresolved ? undefined : query;
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return undefined;
  }
}

/** Resolves every template; returns the prefetch object and the FHIR calls made (for tests). */
export async function resolvePrefetch(
  templates: Record<string, string>,
  context: Record<string, unknown>,
  fhirServer: string,
  options: { fetch?: typeof fetch; now?: Date } = {},
): Promise<{ prefetch: Record<string, unknown>; calls: FhirCall[]; skipped: string[] }> {
  const doFetch = options.fetch ?? fetch;
  const base = fhirServer.replace(/\/+$/, '');
  const calls: FhirCall[] = [];
  const skipped: string[] = [];
  const prefetch: Record<string, unknown> = {};
  const accept = { accept: 'application/fhir+json' };
  await Promise.all(
    Object.entries(templates).map(async ([key, template]) => {
      const query = resolveTemplate(template, context, options.now);
      if (query === undefined) {
        skipped.push(key);
        return;
      }
      const [path, search] = query.split('?') as [string, string | undefined];
      if (search === undefined) {
        const url = `${base}/${path}`;
        const response = await doFetch(url, { headers: accept });
        calls.push({ key, method: 'GET', url, status: response.status });
        const body = await readJson(response);
        if (response.ok && body) prefetch[key] = body;
        return;
      }
      const url = `${base}/${path}/_search`;
      const contentType = 'application/x-www-form-urlencoded';
      let response = await doFetch(url, { method: 'POST', headers: { ...accept, 'content-type': contentType }, body: search });
      calls.push({ key, method: 'POST', url, contentType, body: search, status: response.status });
      if (!response.ok) {
        await response.body?.cancel();
        const getUrl = `${base}/${query}`;
        response = await doFetch(getUrl, { headers: accept });
        calls.push({ key, method: 'GET', url: getUrl, status: response.status });
      }
      const body = await readJson(response);
      if (response.ok && body) prefetch[key] = body;
    }),
  );
  return { prefetch, calls, skipped };
}

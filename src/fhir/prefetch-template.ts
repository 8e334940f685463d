import type { CdsHookRequest } from '../schemas/cds-request';

/**
 * Fills a CDS Hooks 2.0 prefetch template: `{{context.<root primitive>}}` and the four user tokens,
 * URL-encoded. Returns undefined when a token has no value in this request (e.g. no encounterId):
 * such a query cannot be run and its data counts as unavailable.
 */
export function fillTemplate(template: string, request: Pick<CdsHookRequest, 'context'>): string | undefined {
  let missing = false;
  const filled = template.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_match, token: string) => {
    const value = tokenValue(token, request.context as Record<string, unknown>);
    if (value === undefined) {
      missing = true;
      return '';
    }
    return encodeURIComponent(value);
  });
  return missing ? undefined : filled;
}

function tokenValue(token: string, context: Record<string, unknown>): string | undefined {
  if (token.startsWith('context.')) {
    const value = context[token.slice('context.'.length)];
    return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
  }
  const userId = typeof context.userId === 'string' ? context.userId : '';
  const [type, id] = userId.split('/');
  const expected: Record<string, string> = {
    userPractitionerId: 'Practitioner',
    userPractitionerRoleId: 'PractitionerRole',
    userPatientId: 'Patient',
    userRelatedPersonId: 'RelatedPerson',
  };
  return expected[token] === type && id ? id : undefined;
}

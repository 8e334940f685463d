import { knowledgeFilesFromTexts } from '../../src/knowledge/knowledge-files';
import { compileCatalog } from '../../src/knowledge/load-catalog';
import type { Catalog } from '../../src/knowledge/types';

/**
 * The service's own knowledge (GET /smart-app/knowledge.json: the rule and mapping files it loaded),
 * compiled here by the service's own loader, so the app decides exactly as the cards did. The service
 * validated these texts at start-up; the browser skips only the schema checks (no eval needed).
 */
export async function loadCatalogFromService(): Promise<Catalog> {
  const response = await fetch(new URL('knowledge.json', document.baseURI), { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`the service did not give the decision rules (HTTP ${response.status})`);
  const body = (await response.json()) as { files?: Record<string, string> };
  if (!body.files || typeof body.files !== 'object') throw new Error('the service gave no decision rules');
  return compileCatalog(knowledgeFilesFromTexts(body.files), { prevalidated: true });
}

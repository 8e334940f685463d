/** The OAuth client settings the service publishes for this app (GET /smart-app/config.json). */
export interface ClientConfig {
  clientId: string;
  scopes: { ehrLaunch: string; standaloneLaunch: string };
}

export async function loadClientConfig(): Promise<ClientConfig> {
  const response = await fetch(new URL('config.json', document.baseURI), { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`the service did not give the app its settings (HTTP ${response.status})`);
  return (await response.json()) as ClientConfig;
}

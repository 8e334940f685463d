import FHIR from 'fhirclient';
import './styles.css';
import { loadClientConfig } from './client-config';
import { setStatus } from './status';

/**
 * launch.html: the SMART launch URL an EHR registers. From an EHR (`?iss=…&launch=…`) it asks for the
 * launch context the EHR prepared; standalone (`?iss=…` only) it asks the server to pick a patient
 * (launch/patient). fhirclient then redirects to the authorization server and back to index.html.
 */
async function launch(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const iss = params.get('iss');
  if (!iss) {
    setStatus('This app needs a FHIR server to start: open it from a card in your EHR, or start it standalone with launch.html?iss=<FHIR base URL>.', 'error');
    return;
  }
  const config = await loadClientConfig();
  const fromEhr = params.has('launch');
  setStatus(fromEhr ? 'Connecting to your EHR…' : 'Connecting to the FHIR server…', 'busy');
  await FHIR.oauth2.authorize({
    clientId: config.clientId,
    scope: fromEhr ? config.scopes.ehrLaunch : config.scopes.standaloneLaunch,
    redirectUri: 'index.html',
    iss,
    ...(fromEhr ? { launch: params.get('launch')! } : {}),
  });
}

launch().catch((error: unknown) => {
  setStatus(`The app could not start: ${error instanceof Error ? error.message : String(error)}. Launch it again from the EHR.`, 'error');
});

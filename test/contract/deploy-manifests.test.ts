import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { EnvSchema } from '../../src/config/env';
import { PROJECT_ROOT } from '../support/catalog';

// No cluster or Docker engine runs in CI: these checks keep the reviewed manifests consistent
// with the code (variable names, probe paths, labels) so they do not rot silently.
type Doc = Record<string, any>;
const load = (path: string): Doc[] => parseAllDocuments(readFileSync(join(PROJECT_ROOT, path), 'utf8')).map((d) => d.toJSON() as Doc);
const k8s = (file: string) => load(`docker/k8s/${file}`);
const KNOWN = new Set(Object.keys(EnvSchema.properties));

const configMaps = k8s('configmap.yaml');
const [deployment] = k8s('deployment.yaml');
const [service] = k8s('service.yaml');
const [hpa] = k8s('hpa.yaml');
const [pdb] = k8s('pdb.yaml');
const [secret] = k8s('secret.example.yaml');
const [compose] = load('docker/docker-compose.yml');
const container = deployment!.spec.template.spec.containers[0];

test('every variable the manifests and the compose file set is one the service reads', () => {
  const settings = configMaps.find((c) => c.metadata.name === 'zoledronic-cds')!;
  const names = [...Object.keys(settings.data), ...Object.keys(secret!.stringData), ...Object.keys(compose!.services.cds.environment)];
  expect(names.filter((n) => !KNOWN.has(n))).toEqual([]);
  expect(names).toEqual(expect.arrayContaining(['CDS_DB_URL', 'CDS_AUDIT_HMAC_KEY', 'CDS_TRUSTED_ISSUERS', 'CDS_RETENTION_DAYS']));
});

test('the Deployment: probes on /readyz and /healthz, non-root, read-only root file system, resources, config and secret', () => {
  expect(container.readinessProbe.httpGet.path).toBe('/readyz');
  expect(container.livenessProbe.httpGet.path).toBe('/healthz');
  expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  expect(deployment!.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true });
  expect(container.resources.requests).toBeDefined();
  expect(container.resources.limits.memory).toBeDefined();
  expect(container.envFrom).toEqual([{ configMapRef: { name: 'zoledronic-cds' } }, { secretRef: { name: secret!.metadata.name } }]);
  const issuersFile = configMaps.find((c) => c.metadata.name === 'zoledronic-cds-issuers')!;
  expect(JSON.parse(issuersFile.data['trusted-issuers.json'])).toEqual([expect.objectContaining({ iss: expect.any(String), jwks_uri: expect.any(String) })]);
  const settings = configMaps.find((c) => c.metadata.name === 'zoledronic-cds')!;
  const mount = container.volumeMounts.find((m: Doc) => settings.data.CDS_TRUSTED_ISSUERS.startsWith(m.mountPath));
  expect(mount).toBeDefined();
});

test('Service, HorizontalPodAutoscaler and PodDisruptionBudget point at the Deployment’s pods', () => {
  const podLabels = deployment!.spec.template.metadata.labels;
  expect(podLabels).toMatchObject(service!.spec.selector);
  expect(podLabels).toMatchObject(pdb!.spec.selector.matchLabels);
  expect(hpa!.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment!.metadata.name });
  expect(hpa!.spec.minReplicas).toBeGreaterThan(pdb!.spec.minAvailable);
  expect(service!.spec.ports[0].targetPort).toBe(container.ports[0].name);
});

test('compose: the service waits for a healthy PostgreSQL and uses it as its store', () => {
  const cds = compose!.services.cds;
  expect(cds.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  expect(cds.environment.CDS_DB_URL).toMatch(/^postgres:\/\/.*@postgres:5432\//);
  expect(compose!.services.postgres.healthcheck.test.join(' ')).toContain('pg_isready');
});

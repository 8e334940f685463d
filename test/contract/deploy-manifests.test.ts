import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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

describe('production settings the manifests must carry (issue 13)', () => {
  const settings = configMaps.find((c) => c.metadata.name === 'zoledronic-cds')!;

  test('the HorizontalPodAutoscaler alone sets the replica count', () => {
    expect(deployment!.spec).not.toHaveProperty('replicas');
  });

  test('the fhirServer allow-list is set', () => {
    expect(settings.data.CDS_FHIR_SERVER_ALLOWLIST).toMatch(/^https:\/\//);
  });

  test('/metrics is on its own port, which the Service does not expose and Prometheus scrapes', () => {
    const metricsPort = Number(settings.data.CDS_METRICS_PORT);
    expect(metricsPort).not.toBe(Number(settings.data.PORT));
    expect(container.ports).toContainEqual({ name: 'metrics', containerPort: metricsPort });
    const exposed = service!.spec.ports.map((p: Doc) => p.targetPort);
    expect(exposed).not.toContain('metrics');
    expect(exposed).not.toContain(metricsPort);
    expect(deployment!.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(metricsPort));
  });

  test('CDS_DB_URL is required from the Secret, and TLS to PostgreSQL verifies against a mounted CA', () => {
    expect(container.env).toContainEqual({ name: 'CDS_DB_URL', valueFrom: { secretKeyRef: { name: secret!.metadata.name, key: 'CDS_DB_URL', optional: false } } });
    const dbUrl = new URL(secret!.stringData.CDS_DB_URL);
    expect(dbUrl.searchParams.get('sslmode')).toBe('verify-full');
    const caFile = dbUrl.searchParams.get('sslrootcert')!;
    const mount = container.volumeMounts.find((m: Doc) => caFile.startsWith(`${m.mountPath}/`));
    expect(mount).toMatchObject({ readOnly: true });
    const volume = deployment!.spec.template.spec.volumes.find((v: Doc) => v.name === mount.name);
    expect(volume.configMap.items).toContainEqual({ key: 'ca.crt', path: caFile.slice(mount.mountPath.length + 1) });
  });

  test('the image is built on a pinned Node LTS release (even major ≥ 22, full version tag)', () => {
    const dockerfile = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
    const image = /^ARG NODE_IMAGE=node:(\d+)\.(\d+)\.(\d+)-[a-z]+-slim$/m.exec(dockerfile);
    expect(image).not.toBeNull();
    expect(Number(image![1]) % 2).toBe(0);
    expect(Number(image![1])).toBeGreaterThanOrEqual(22);
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).not.toMatch(/^FROM node:/m);
  });
});

describe('kustomization renders', () => {
  const kustomization = load('docker/k8s/kustomization.yaml')[0]!;
  const structural = (kustomization.resources as string[]).flatMap((file) => k8s(file)).map((d) => `${d.kind}/${d.metadata.name}`).sort();

  test('every listed resource file exists and parses; the Secret example is not applied', () => {
    expect(structural).toEqual(['ConfigMap/zoledronic-cds', 'ConfigMap/zoledronic-cds-issuers', 'Deployment/zoledronic-cds', 'HorizontalPodAutoscaler/zoledronic-cds', 'PodDisruptionBudget/zoledronic-cds', 'Service/zoledronic-cds']);
    expect(kustomization.resources).not.toContain('secret.example.yaml');
  });

  // kubectl is not a Debian package, so CI may not have it: the structural checks above always run.
  const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((path) => existsSync(path));
  (kubectl ? test : test.skip)(`kubectl kustomize docker/k8s${kubectl ? '' : ' (skipped: kubectl not installed)'}`, () => {
    const rendered = parseAllDocuments(execFileSync(kubectl!, ['kustomize', join(PROJECT_ROOT, 'docker/k8s')], { encoding: 'utf8', timeout: 60_000 })).map((d) => d.toJSON() as Doc);
    expect(rendered.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual(structural);
    const renderedDeployment = rendered.find((d) => d.kind === 'Deployment')!;
    expect(renderedDeployment.spec.template.spec.containers[0].image).toBe('registry.example-hospital.org/zoledronic-cds:0.1.0');
    expect(renderedDeployment.spec).not.toHaveProperty('replicas');
    for (const doc of rendered) expect(doc.metadata.labels).toMatchObject({ 'app.kubernetes.io/name': 'zoledronic-cds' });
  });
});

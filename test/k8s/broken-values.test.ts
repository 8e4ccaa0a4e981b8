/**
 * The checks fail when they should: deliberately broken values files (test/k8s/fixtures) are rejected,
 * by values.schema.json when helm lints or renders them, or by the parity check against the services'
 * config schemas when the chart renders but a process would not start (or would ignore a setting).
 */
import { lintChart, renderChart } from '../../tools/src/k8s/chart';
import { containerEnv, envParityProblems } from '../../tools/src/k8s/parity';
import { configSchemas, fixture } from './support';

describe('values.schema.json rejects, in helm template and helm lint', () => {
  it.each([
    ['unknown-key.yaml', '- services.identity: Additional property replica is not allowed'],
    ['unknown-top-level-key.yaml', '- (root): Additional property otelCollector is not allowed'],
    ['negative-replicas.yaml', '- services.intake.replicas: Must be greater than or equal to 0'],
    ['wrong-type.yaml', '- services.identity.port: Invalid type. Expected: integer, given: string'],
  ])('%s', (file, message) => {
    const rendered = renderChart({ valuesFiles: [fixture(file)] });
    expect(rendered.ok).toBe(false);
    expect(rendered.stderr).toContain("values don't meet the specifications of the schema(s)");
    expect(rendered.stderr).toContain(message);
    const linted = lintChart({ valuesFiles: [fixture(file)] });
    expect(linted.ok).toBe(false);
    expect(linted.stdout + linted.stderr).toContain(message);
  });
});

describe('the parity check rejects what the schema cannot know', () => {
  it.each([
    ['missing-required-env.yaml', 'reporting', ['CLICKHOUSE_URL is required by the service but not set']],
    ['missing-grpc-client.yaml', 'gateway', ['REPORTING_GRPC_ADDR is required by the service but not set']],
    ['unread-env.yaml', 'intake', ['INTAKE_DEFAULT_COUNTRI is set but the service does not read it']],
    ['invalid-env-value.yaml', 'reporting', [expect.stringMatching(/^REPORTING_BATCH_ROWS="lots" is rejected by the service: /)]],
  ])('%s (%s)', (file, service, problems) => {
    const rendered = renderChart({ valuesFiles: [fixture(file)] });
    // helm accepts these: only the comparison with the code catches them.
    expect(rendered.stderr).toBe('');
    expect(rendered.ok).toBe(true);
    const env = containerEnv(rendered.objects, 'Deployment', `crm-${service}`);
    expect(envParityProblems(configSchemas[service], env, { extraAllowed: ['OTEL_SERVICE_NAME'] })).toEqual(problems);
  });
});

describe('the templates refuse what they cannot render', () => {
  it('a gRPC client that is not a service', () => {
    const r = renderChart({ set: { 'services.gateway.grpcClients': '{identity,intake,reporting,billing}' } });
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain('services.gateway.grpcClients: no service named "billing"');
  });

  it('a credential given as a plain value instead of a Secret', () => {
    const r = renderChart({ valuesFiles: [fixture('plain-credential.yaml')] });
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain('services.identity.env.DATABASE_URL holds a password: give it through secretEnv (a Secret), never as a value');
  });

  it('no Kafka brokers and no dev engines', () => {
    const r = renderChart({ set: { 'kafka.brokers': '' } });
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain('kafka.brokers is required');
  });
});

import { ConfigError, common, parseConfig, z } from './index';

const schema = z.object({
  DATABASE_URL: common.url,
  GRPC_PORT: common.port,
  KAFKA_BROKERS: common.brokers,
  LOG_LEVEL: common.logLevel,
});

describe('parseConfig', () => {
  it('parses and coerces a valid environment', () => {
    const cfg = parseConfig(schema, {
      DATABASE_URL: 'postgres://u:p@localhost:5432/db',
      GRPC_PORT: '50051',
      KAFKA_BROKERS: 'a:9092, b:9093',
    });
    expect(cfg.GRPC_PORT).toBe(50051);
    expect(cfg.KAFKA_BROKERS).toEqual(['a:9092', 'b:9093']);
    expect(cfg.LOG_LEVEL).toBe('info');
  });

  it('lists every missing and invalid variable at once', () => {
    let caught: unknown;
    try {
      parseConfig(schema, { GRPC_PORT: '99999999', KAFKA_BROKERS: 'nope' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join('\n');
    expect(problems).toMatch(/DATABASE_URL: missing/);
    expect(problems).toMatch(/GRPC_PORT: invalid/);
    expect(problems).toMatch(/KAFKA_BROKERS: invalid/);
    expect((caught as ConfigError).problems).toHaveLength(3);
  });
});

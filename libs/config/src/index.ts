import { z } from 'zod';

export { z };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses `env` with a zod object schema and reports every missing or invalid variable at once.
 * Throws a ConfigError; use `loadConfig` at process start to print it and exit.
 */
export function parseConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.length ? String(issue.path[0]) : '(root)';
    const value = issue.path.length ? env[name] : undefined;
    return value === undefined ? `${name}: missing (${issue.message})` : `${name}: invalid (${issue.message})`;
  });
  throw new ConfigError(problems);
}

/** Like parseConfig but prints the problems to stderr and exits the process with code 78 (EX_CONFIG). */
export function loadConfig<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  try {
    return parseConfig(schema, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}

/** Reusable field schemas for the variables every service shares. */
export const common = {
  port: z.coerce.number().int().min(0).max(65535),
  url: z.string().url(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Comma-separated host:port list. */
  brokers: z
    .string()
    .min(1)
    .transform((s) => s.split(',').map((b) => b.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port')).min(1)),
  optionalUrl: z.string().url().optional(),
  bool: z
    .enum(['true', 'false', '1', '0'])
    .transform((v) => v === 'true' || v === '1'),
};

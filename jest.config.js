// Three kinds of test: unit (`*.test.ts`, no I/O, parallel), integration (`*.integration.test.ts`,
// real engines, run serially with --runInBand) and images (test/images: podman builds, real engines).
const transform = {
  '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
};
const roots = ['<rootDir>/libs', '<rootDir>/services', '<rootDir>/tools', '<rootDir>/test', '<rootDir>/gateway'];
// A few dependencies ship only ES modules; Jest runs CommonJS here, so swc transforms those too.
const esmOnly = ['content-disposition'];
const common = {
  transform,
  roots,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['**/*.test.ts'], testPathIgnorePatterns: ['/node_modules/', '\\.integration\\.test\\.ts$', '/test/images/'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['**/*.integration.test.ts'],
      testPathIgnorePatterns: ['/node_modules/'],
      setupFilesAfterEnv: ['<rootDir>/tools/jest/integration.setup.ts'],
    },
    // The images built for real (podman) and started from their filesystems: `npm test`'s `images` step.
    {
      ...common,
      displayName: 'images',
      testMatch: ['<rootDir>/test/images/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/'],
      setupFilesAfterEnv: ['<rootDir>/tools/jest/integration.setup.ts'],
    },
  ],
};

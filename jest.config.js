// Two projects: `unit` (pure logic, fakes allowed) and `integration` (real Kafka broker, real
// Postgres, real HTTP sandboxes). Integration tests run in band; the global setup starts the local
// broker when KAFKA_BROKERS is unset so `npm test` on a fresh clone just works.
const swcTransform = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    },
    module: { type: 'commonjs' },
  },
];
// The console's specs may be .tsx (JSX through SWC's automatic runtime).
const tsxTransform = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', tsx: true },
      transform: { react: { runtime: 'automatic' } },
    },
    module: { type: 'commonjs' },
  },
];
const common = {
  transform: { '^.+\\.ts$': swcTransform, '^.+\\.tsx$': tsxTransform },
  moduleNameMapper: {
    '^@libs/([^/]+)(.*)$': '<rootDir>/libs/$1/src$2',
    '^@tools/(.*)$': '<rootDir>/tools/$1',
  },
  testEnvironment: 'node',
};
module.exports = {
  reporters: ['default', '<rootDir>/test/support/timing-reporter.js'],
  // kafkajs keeps reconnect timers of deliberately unreachable clients alive; do not hang on them.
  forceExit: true,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/{apps,libs,examples}/**/*.spec.ts',
        '<rootDir>/apps/console/src/**/*.spec.tsx',
        '<rootDir>/test/deploy/**/*.spec.ts',
      ],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.js',
      globalTeardown: '<rootDir>/test/support/global-teardown.js',
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-setup.js'],
    },
  ],
};

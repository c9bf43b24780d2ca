/**
 * Tests are TypeScript. ts-jest only transpiles them (file by file, no type check per worker);
 * `npm test` type-checks the tests and the sources once with test/tsconfig.json before jest runs.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'test/tsconfig.jest.json' }] },
  testTimeout: 60000,
  // Two suites at a time: the live-kernel suites time their probes, and more than two busy
  // suites on a two-core runner starve them.
  maxWorkers: 2,
  // Known-slow files first on a fresh clone too (CI has no timing cache): see the module.
  testSequencer: '<rootDir>/test/slow-first-sequencer.js',
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};

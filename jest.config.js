// One jest run over every workspace's unit tests and the cross-component tests in tests/.
// ESM throughout (MikroORM 7 is ESM-only): run with NODE_OPTIONS=--experimental-vm-modules.
// ts-jest transpiles each file on its own (isolatedModules); `tsc -b` does the type checking.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.jest.json' }],
  },
  moduleNameMapper: {
    '^@ispmon/([a-z-]+)$': '<rootDir>/$1/src/index.ts',
    '^@ispmon/service-kit/([a-z-]+)$': '<rootDir>/service-kit/src/$1.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  // Workspaces keep tests in `test/` (outside what `dist/` is built from) or, older ones, beside the source.
  testMatch: [
    '<rootDir>/*/src/**/*.test.ts',
    '<rootDir>/*/test/**/*.test.ts',
    '<rootDir>/tests/**/*.test.ts',
  ],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 60_000,
  // Real servers start per test file; most of a file's time is waiting on them (scrape and rule
  // intervals, alert timers), so four files run at once on two cores: with three, a clean-clone CI run
  // (2026-11-30) spent 647 s in jest for 1,937 s of test-file time and 10.5 min of CPU.
  maxWorkers: 4,
  testSequencer: '<rootDir>/jest.sequencer.cjs',
};

// Jest runs three projects in one `npm test`: the service's unit tests (beside the code),
// the cross-cutting suites under test/ (emulator conformance, end-to-end, reliability,
// short benchmark variants), and the LWC tests under sfdx-lwc-jest's own configuration.
// The service is ESM, so jest runs with --experimental-vm-modules and @swc/jest.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { jestConfig: lwcConfig } = require('@salesforce/sfdx-lwc-jest/config');

const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript', decorators: false }, target: 'es2022', keepClassNames: true },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const esmTs = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/setup/silence-logs.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/setup/reset-exit-code.ts'],
};

export default {
  testTimeout: 30000,
  projects: [
    {
      ...esmTs,
      displayName: 'service',
      rootDir: '.',
      testMatch: ['<rootDir>/service/src/**/*.test.ts'],
    },
    {
      ...esmTs,
      displayName: 'e2e',
      rootDir: '.',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
    },
    {
      ...lwcConfig,
      displayName: 'lwc',
      rootDir: '.',
      roots: ['<rootDir>/force-app'],
      testMatch: ['<rootDir>/force-app/**/lwc/**/__tests__/**/*.test.js'],
      moduleNameMapper: {
        ...(lwcConfig.moduleNameMapper ?? {}),
        '^lightning/empApi$': '<rootDir>/force-app/test/jest-mocks/lightning/empApi',
      },
    },
  ],
};

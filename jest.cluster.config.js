/** `npm run test:cluster`: the HAProxy scale-out test (test/cluster/), kept out of `npm test` for its length. */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/cluster'],
  testPathIgnorePatterns: [],
  maxWorkers: 1,
  testTimeout: 120000,
};

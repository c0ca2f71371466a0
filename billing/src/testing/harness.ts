// Kept for the SLA tests' import path; the harness lives in billing/test/ and is not built into dist.
export * from '../../test/harness.js';

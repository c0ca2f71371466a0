export { startRuntime, type Runtime, type RuntimeOptions } from './runtime.js';
export { createToken } from './tokens.js';

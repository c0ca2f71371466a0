// The demo's importable surface: the pure wiring that renders the shipped configuration for a local run
// (tests use it too). main.ts is the runnable entry point and is not imported.
export * from './wiring.js';

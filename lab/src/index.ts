export * from './routeros/index.js';

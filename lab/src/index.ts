export * from './routeros/index.js';
export { writeInventory, writeAtomically } from './inventory.js';
export * from './snmp/index.js';
export * from './probes/index.js';
export * from './midtrans/index.js';

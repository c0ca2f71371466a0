export * from './routeros/index.js';
export { writeInventory } from './inventory.js';
export * from './snmp/index.js';
export * from './probes/index.js';
export * from './midtrans/index.js';
export * from './gateways/index.js';

export {
  startSnmpLab,
  generatedSwitch,
  generatedOlt,
  V3_USER,
  type SnmpLab,
  type SnmpEndpoint,
  type SnmpLabOptions,
  type SnmpV3User,
} from './lab.js';

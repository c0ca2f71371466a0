export {
  startProbeTargets,
  canCreateProbeTargets,
  cleanStaleProbeTargets,
  type ProbeTarget,
  type ProbeTargets,
} from './targets.js';

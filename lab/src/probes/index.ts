export {
  startProbeTargets,
  canCreateProbeTargets,
  probeTargetsMissing,
  cleanStaleProbeTargets,
  type ProbeTarget,
  type ProbeTargets,
} from './targets.js';

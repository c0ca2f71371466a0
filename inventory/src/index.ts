export { writeIfChanged } from './files.js';
export {
  probeFileSd,
  renderExporterTargets,
  renderFileSd,
  routerFileSd,
  type FileSdGroup,
  type ProbeTarget,
  type RouterTarget,
  type SecretValue,
} from './format.js';

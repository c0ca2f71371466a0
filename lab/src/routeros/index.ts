export {
  startRouterLab,
  selfSignedCertificate,
  SimRouter,
  type RouterLab,
  type RouterLabOptions,
  type RouterOptions,
  type Unresponsive,
} from './lab.js';
export { RouterModel, type Row } from './model.js';
export {
  encodeLength,
  encodeSentence,
  encodeWord,
  readLength,
  SentenceDecoder,
  ProtocolError,
} from './protocol.js';
export { formatDuration, formatRate, versionAtLeast } from './formats.js';
export { matchesQuery } from './session.js';
export {
  routePacket,
  subscriberHttpRequest,
  type Packet,
  type SubscriberRequest,
  type SubscriberResult,
  type Verdict,
} from './forwarding.js';
export {
  startSubscriberProxy,
  type SubscriberProxy,
  type SubscriberProxyOptions,
} from './subscriber-proxy.js';
export type { AddressListEntry, FirewallRule, FirewallState } from './firewall.js';

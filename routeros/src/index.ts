// @ispmon/routeros: the RouterOS API client side shared by the exporter and billing.
export {
  RouterOsClient,
  RouterOsError,
  type PrintOptions,
  type RouterOsConnectOptions,
  type RouterOsFailure,
  type RouterOsRow,
} from './client.js';
export {
  RouterPool,
  RouterSession,
  type RouterEndpoint,
  type RouterPoolOptions,
  type RouterTls,
} from './pool.js';
export {
  decodeRouterOsText,
  encodeCommand,
  encodeWordLength,
  ReplyReader,
  RouterOsProtocolError,
} from './wire.js';
export * from './values.js';

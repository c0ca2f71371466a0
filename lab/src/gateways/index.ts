export { startMessageGateway, type GatewayMessage, type MessageGateway } from './messaging.js';

export {
  startMidtransFake,
  midtransSignatureKey,
  type MidtransFake,
  type FakeTransaction,
  type NotificationDelivery,
  type PaymentType,
} from './fake.js';

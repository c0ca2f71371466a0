import { startSubscriberPhones, type PhoneMessage, type SubscriberPhones } from './subscriber-phone.js';

describe("the subscribers' phones (the lab's SMS and WhatsApp stand-ins, printed)", () => {
  let phones: SubscriberPhones;
  const printed: string[] = [];

  beforeAll(async () => {
    phones = await startSubscriberPhones({ token: 'tok', print: (l) => printed.push(l), pollMs: 20 });
  });
  afterAll(() => phones?.close());

  const inbox = async (): Promise<PhoneMessage[]> => (await (await fetch(phones.inboxUrl)).json()) as never;

  it('prints and lists what a gateway delivered, one line each, and not what it refused', async () => {
    const sms = await fetch(`${phones.gatewayUrl}/sms`, {
      method: 'POST',
      headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
      body: JSON.stringify({
        to: '6281255550142',
        message: 'Invoice INV-1 is overdue\nDear Budi, pay.\nISP',
      }),
    });
    expect(sms.status).toBe(200);
    const wa = await fetch(`${phones.gatewayUrl}/send`, {
      method: 'POST',
      headers: { authorization: 'tok', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        target: '6281255550142',
        message: 'Your service is active again',
      }).toString(),
    });
    expect(await wa.json()).toMatchObject({ status: true });
    const refused = await fetch(`${phones.gatewayUrl}/sms`, {
      method: 'POST',
      headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' },
      body: JSON.stringify({ to: '6281255550142', message: 'never delivered' }),
    });
    expect(refused.status).toBe(401);
    expect((await inbox()).map((m) => m.line)).toEqual([
      '[sms 6281255550142] Invoice INV-1 is overdue | Dear Budi, pay. | ISP',
      '[whatsapp 6281255550142] Your service is active again',
    ]);
    expect(printed).toEqual((await inbox()).map((m) => m.line));
    expect((await fetch(phones.inboxUrl.replace('/messages', '/other'))).status).toBe(404);
  });
});

// The Midtrans stand-in speaks Midtrans's wire format: Basic auth with the server key, Snap's answer,
// the status API's fields and codes, signatures any Midtrans client would verify.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { startMidtransFake, type MidtransFake } from './fake.js';

const KEY = 'SB-Mid-server-lab-test';
const auth = `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`;

describe('Midtrans stand-in', () => {
  let fake: MidtransFake;
  beforeAll(async () => {
    fake = await startMidtransFake({ serverKey: KEY });
  });
  afterAll(() => fake.close());

  const create = async (orderId: string, gross = 150000, extra: Record<string, unknown> = {}) => {
    const res = await fetch(`${fake.snapUrl}/transactions`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ transaction_details: { order_id: orderId, gross_amount: gross }, ...extra }),
    });
    return { status: res.status, body: (await res.json()) as { token: string; redirect_url: string } };
  };
  const status = async (orderId: string, authorization = auth) => {
    const res = await fetch(`${fake.url}/v2/${orderId}/status`, { headers: { authorization } });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };

  it('answers Snap and the status API with Midtrans fields, codes and signatures', async () => {
    const snap = await create('INV-1-a');
    expect(snap.status).toBe(201);
    expect(snap.body.redirect_url).toBe(`${fake.url}/snap/v4/redirection/${snap.body.token}`);
    expect((await create('INV-1-a')).status).toBe(400); // order ids are single-use
    expect((await status('INV-1-a', 'Basic eDo=')).status).toBe(401);
    expect((await status('INV-unknown')).status).toBe(404);
    const pending = await status('INV-1-a');
    expect(pending.body).toMatchObject({
      order_id: 'INV-1-a',
      transaction_status: 'pending',
      status_code: '201',
      gross_amount: '150000.00',
      currency: 'IDR',
    });
    expect(pending.body.signature_key).toBe(
      createHash('sha512').update(`INV-1-a201150000.00${KEY}`).digest('hex'),
    );
    expect(fake.capture('INV-1-a', 'challenge')).toMatchObject({
      status_code: '201',
      fraud_status: 'challenge',
    });
    expect(fake.capture('INV-1-a', 'deny')).toMatchObject({ status_code: '202' });
    expect(fake.expire('INV-1-a')).toMatchObject({ transaction_status: 'expire', status_code: '407' });
  });

  it('settles from its payment page and posts the signed notification to the merchant', async () => {
    const received: string[] = [];
    const merchant = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      });
    });
    await new Promise<void>((r) => merchant.listen(0, '127.0.0.1', () => r()));
    const port = (merchant.address() as { port: number }).port;
    fake.notificationUrl = `http://127.0.0.1:${port}/notify`;
    try {
      const snap = await create('INV-2-b', 99000, {
        callbacks: { finish: 'https://isp.example/portal?lang=id' },
      });
      const page = await (await fetch(snap.body.redirect_url)).text();
      expect(page).toContain('Rp 99.000');
      const paid = await fetch(`${snap.body.redirect_url}/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'payment_type=gopay',
      });
      expect(paid.status).toBe(200);
      const paidPage = await paid.text();
      expect(paidPage).toContain('answered the notification with HTTP 200');
      // Back to the merchant's finish URL, with what Snap appends to it.
      expect(paidPage).toContain(
        'href="https://isp.example/portal?lang=id&#38;order_id=INV-2-b&#38;status_code=200&#38;transaction_status=settlement"',
      );
      expect(received).toHaveLength(1);
      const n = JSON.parse(received[0] ?? '{}') as Record<string, string>;
      expect(n).toMatchObject({
        order_id: 'INV-2-b',
        transaction_status: 'settlement',
        status_code: '200',
        payment_type: 'gopay',
      });
      expect(n.signature_key).toBe(createHash('sha512').update(`INV-2-b20099000.00${KEY}`).digest('hex'));
      expect((await status('INV-2-b')).body.transaction_status).toBe('settlement');
      const unknownMethod = await fetch(`${fake.url}/snap/v4/redirection/${snap.body.token}/pay`, {
        method: 'POST',
        body: 'payment_type=cash',
      });
      expect(unknownMethod.status).toBe(400);
    } finally {
      fake.notificationUrl = undefined;
      await new Promise<void>((r) => merchant.close(() => r()));
    }
  });
});

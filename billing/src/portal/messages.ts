// The isolation page's words, Indonesian (the default) and English. One key set for both, so a missing
// translation is a type error.
export type Lang = 'id' | 'en';
export const LANGS: readonly Lang[] = ['id', 'en'];

const id = {
  title: 'Layanan internet Anda',
  switchLabel: 'English',
  suspendedHeading: 'Layanan internet Anda sedang diisolir',
  suspendedLead:
    'Ada tagihan yang sudah lewat jatuh tempo. Setelah dibayar, layanan Anda aktif kembali secara otomatis.',
  customer: 'Pelanggan',
  plan: 'Paket',
  invoice: 'Tagihan',
  period: 'Periode',
  dueDate: 'Jatuh tempo',
  amount: 'Jumlah',
  total: 'Total yang harus dibayar',
  pay: 'Bayar',
  noInvoices: 'Tidak ada tagihan yang dapat dibayar di sini. Silakan hubungi kami.',
  payFailed: 'Pembayaran belum dapat dimulai. Silakan coba lagi sebentar lagi.',
  restoredHeading: 'Layanan Anda sudah aktif kembali',
  restoredLead:
    'Terima kasih, pembayaran Anda sudah kami terima. Jika koneksi belum pulih dalam satu menit, matikan lalu nyalakan kembali modem Anda.',
  neutralHeading: 'Tidak ada tagihan untuk ditampilkan',
  neutralLead:
    'Halaman ini menampilkan tagihan pelanggan yang layanannya diisolir, bila dibuka dari koneksi pelanggan tersebut atau dari tautan dalam pemberitahuan kami.',
  linkRefusedHeading: 'Tautan tidak berlaku',
  linkRefusedLead:
    'Tautan ini tidak sah atau sudah kedaluwarsa. Buka halaman ini dari koneksi internet Anda, atau minta tautan baru kepada kami.',
  rateLimitedHeading: 'Terlalu banyak permintaan',
  rateLimitedLead: 'Silakan coba lagi dalam satu menit.',
  contact: 'Hubungi',
};

export type Messages = typeof id;

const en: Messages = {
  title: 'Your internet service',
  switchLabel: 'Bahasa Indonesia',
  suspendedHeading: 'Your internet service is suspended',
  suspendedLead: 'An invoice is past its due date. Once it is paid, your service comes back by itself.',
  customer: 'Customer',
  plan: 'Plan',
  invoice: 'Invoice',
  period: 'Period',
  dueDate: 'Due',
  amount: 'Amount',
  total: 'Total due',
  pay: 'Pay',
  noInvoices: 'There is nothing to pay here. Please contact us.',
  payFailed: 'The payment could not be started. Please try again in a moment.',
  restoredHeading: 'Your service is restored',
  restoredLead:
    'Thank you, your payment has been received. If the connection is not back within a minute, switch your modem off and on again.',
  neutralHeading: 'Nothing to show',
  neutralLead:
    "This page shows a suspended subscriber's invoices when it is opened from that subscriber's connection or from the link in our notices.",
  linkRefusedHeading: 'This link is not valid',
  linkRefusedLead:
    'The link is not valid or has expired. Open this page from your own internet connection, or ask us for a new link.',
  rateLimitedHeading: 'Too many requests',
  rateLimitedLead: 'Please try again in a minute.',
  contact: 'Contact',
};

export const MESSAGES: Record<Lang, Messages> = { id, en };

/** `?lang=` wins; then Accept-Language (negotiated by the caller); Indonesian when nothing matches. */
export function pickLang(query: unknown, negotiated: string | false | undefined): Lang {
  if (query === 'id' || query === 'en') return query;
  return negotiated === 'en' ? 'en' : 'id';
}

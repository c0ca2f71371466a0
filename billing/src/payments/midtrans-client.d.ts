// The parts of midtrans-client (CommonJS, untyped) that billing uses.
declare module 'midtrans-client' {
  interface Options {
    isProduction: boolean;
    serverKey: string;
    clientKey?: string;
  }
  interface ApiConfig {
    getSnapApiBaseUrl(): string;
    getCoreApiBaseUrl(): string;
  }
  interface HttpClient {
    http_client: { defaults: { timeout?: number } };
  }
  export class Snap {
    constructor(options: Options);
    apiConfig: ApiConfig;
    httpClient: HttpClient;
    createTransaction(parameter: Record<string, unknown>): Promise<{ token: string; redirect_url: string }>;
  }
  export class CoreApi {
    constructor(options: Options);
    apiConfig: ApiConfig;
    httpClient: HttpClient;
    transaction: { status(orderId: string): Promise<Record<string, unknown>> };
  }
  export class MidtransError extends Error {
    httpStatusCode?: number;
    ApiResponse?: unknown;
  }
  const midtrans: { Snap: typeof Snap; CoreApi: typeof CoreApi; MidtransError: typeof MidtransError };
  export default midtrans;
}

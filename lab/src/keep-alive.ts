// The lab's HTTP servers (control API, Midtrans and messaging stand-ins, subscriber proxy) keep idle
// keep-alive connections for 310 s, as ispmon's services do: with Node's 5 s default, a client reusing an
// idle connection just as the server closes it gets ECONNRESET on a POST (a test whose event loop was busy
// for 6 s on a loaded machine saw it).
export const HTTP_SERVER_OPTIONS = { keepAliveTimeout: 310_000 } as const;

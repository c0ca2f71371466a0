// A command the router refuses: answered as `!trap =category=… =message=…` (menus.ts, firewall.ts).
export class Trap extends Error {
  constructor(
    message: string,
    readonly category?: number,
  ) {
    super(message);
    this.name = 'Trap';
  }
}

// The isolation page: what other parts of billing (the notices) use.
export { portalLink, signPortalToken, verifyPortalToken, type PortalLinkSettings } from './link.js';
export { portalExtensions, portalSettings, type PortalSettings } from './wiring.js';

/** The outbound guard (SSRF protection) every node reaches the network through: see guard.ts. */
export { OutboundGuard, createOutboundGuard, normaliseHost, type OutboundGuardOptions, type LookupAll } from './guard.ts';
export { AllowList, AllowListError, parseAllowEntry, type AllowEntry } from './allow-list.ts';
export { refusalReason, METADATA_ADDRESSES } from './addresses.ts';

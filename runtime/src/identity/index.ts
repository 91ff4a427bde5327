/** Identity and access: the Actor model, authentication mechanisms, stores and HTTP guards. */
export * from './actor.ts';
export * from './types.ts';
export { Identity } from './identity.ts';
export { httpGuards, type HttpGuards } from './http-guards.ts';
export { AuditLog, type AnonymousActor } from './audit.ts';
export { Users, checkUsername, normaliseUsername } from './users.ts';
export { Projects, checkProjectRole } from './projects.ts';
export { Tokens, TOKEN_PREFIX, tokenView } from './tokens.ts';
export { hashPassword, verifyPassword, checkPasswordPolicy, PASSWORD_MIN_LENGTH } from './passwords.ts';

export { Credentials, WINDOW_ID, describeIdentity, holderOf, type Identity } from './credentials';
export { Access, type AccessDeps } from './access';
